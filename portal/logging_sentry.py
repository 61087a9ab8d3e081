"""Error reports to Sentry when SENTRY_DSN is set, scrubbed of what may hold a secret.

A report keeps the exception, its stack (file, function, line) and the request's method
and path, and the request and task ids of the logs. It never holds request bodies,
cookies, headers, query strings (secret links carry their token there), local variables
(a frame may hold a decrypted item), settings, task arguments or SQL.
"""

from __future__ import annotations

from typing import Any

from .logging_config import current_request_id, current_task_id

# The parts of a request a report may keep.
KEPT_REQUEST_KEYS = ("method", "url")
# Breadcrumbs that may carry values: SQL, outgoing HTTP URLs, and Django's "Not Found:
# <path>" lines (a secret link of the old form had its token in the path).
DROPPED_BREADCRUMB_CATEGORIES = ("query", "httplib", "redis", "subprocess", "django.request")


def init_sentry(*, dsn: str, environment: str, release: str | None = None, **options):
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    return sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        # send_default_pii stays at its default (off): no cookies, users or addresses.
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        **options,
    )


def scrub_event(event: dict[str, Any], hint: dict | None = None) -> dict[str, Any]:
    request = event.get("request")
    if isinstance(request, dict):
        kept = {key: request[key] for key in KEPT_REQUEST_KEYS if key in request}
        if "url" in kept:
            kept["url"] = str(kept["url"]).split("?", 1)[0]
        event["request"] = kept
    event.pop("extra", None)  # Celery's task arguments, anything a call attached
    event.pop("user", None)
    event["tags"] = {
        key: value
        for key, value in _as_dict(event.get("tags")).items()
        if key in ("celery_task_name", "status", "transaction")
    }
    ids = {"request_id": current_request_id.get(), "task_id": current_task_id.get()}
    event["tags"].update({key: value for key, value in ids.items() if value})
    for exception in _as_dict(event.get("exception")).get("values", []) or []:
        for frame in _as_dict(exception.get("stacktrace")).get("frames", []) or []:
            frame.pop("vars", None)
    breadcrumbs = _as_dict(event.get("breadcrumbs")).get("values")
    if isinstance(breadcrumbs, list):
        event["breadcrumbs"]["values"] = [
            crumb for crumb in breadcrumbs if scrub_breadcrumb(crumb, None) is not None
        ]
    contexts = _as_dict(event.get("contexts"))
    contexts.pop("celery", None)
    return event


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict | None = None) -> dict[str, Any] | None:
    if crumb.get("category") in DROPPED_BREADCRUMB_CATEGORIES:
        return None
    crumb.pop("data", None)
    return crumb


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}
