"""Logs an operator can search: one line per request and per task, each with its id.

`LOG_FORMAT=json` writes one JSON object per line; the default is readable text. Every
line written while a request or task runs carries its id (`request_id`, `task_id`), and
the events it records keep the same id (`Event.request_id`), so an entry of the event log
leads to the request that wrote it, and back.

What a line may hold: methods, paths without their query string (secret links carry
their token there) and with any `token` URL argument masked, statuses, durations, ids.
Never a form value, a cookie, a header, a task's arguments or its result.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

# The id of the request or task being handled, for log lines and events.
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_request_id", default=None
)
current_task_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_task_id", default=None
)

request_logger = logging.getLogger("portal.request")
task_logger = logging.getLogger("portal.task")

REQUEST_ID_HEADER = "X-Request-ID"
MASK = "[masked]"


def correlation_id() -> str:
    """What an event written now should name: the request's id, else the task's."""
    return current_request_id.get() or current_task_id.get() or ""


class ContextFilter(logging.Filter):
    """Gives every record the current request and task ids (for both formats), and masks
    a URL's token in records about a request (Django's "Not Found: <path>")."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        secrets = _url_secrets(request) if request is not None else []
        if secrets:
            message = record.getMessage()
            for secret in secrets:
                message = message.replace(secret, MASK)
            record.msg, record.args = message, ()
        record.request_id = current_request_id.get() or ""
        record.task_id = current_task_id.get() or ""
        ids = []
        if record.request_id:
            ids.append(f"request={record.request_id}")
        if record.task_id:
            ids.append(f"task={record.task_id}")
        record.context = " ".join(ids) or "-"
        if record.exc_info and _is_environment_error(record.exc_info[1]):
            record.exc_info, record.exc_text = None, None
        return True


def _is_environment_error(error) -> bool:
    from .logging_startup import is_environment_error

    return is_environment_error(error)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids, the line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "task_id"):
            if getattr(record, key, ""):
                line[key] = getattr(record, key)
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"


def logging_settings(*, log_format: str, level: str) -> dict:
    """Django's LOGGING for `LOG_FORMAT` ("json" or "text") at `level`."""
    formatter = (
        {"()": "portal.logging_config.JsonFormatter"}
        if log_format == "json"
        else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "portal.logging_config.ContextFilter"}},
        "formatters": {"portal": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "portal",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Request errors would print POST bodies in tracebacks; keep them terse.
            "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
            # Our own line per request replaces the development server's request lines.
            "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }


def _url_secrets(request) -> list[str]:
    """The values of URL arguments named like a token: a secret link of the old form
    carried its token in the path."""
    match = getattr(request, "resolver_match", None)
    return [
        value
        for name, value in (match.kwargs.items() if match else ())
        if "token" in name and isinstance(value, str) and value
    ]


def _logged_path(request) -> str:
    """The path without its query string, and with a token in it masked."""
    path = request.path
    for secret in _url_secrets(request):
        path = path.replace(secret, MASK)
    return path


def _user_id(request) -> str | None:
    """The signed-in user's id, without a query of its own: only when authentication
    has already loaded the user."""
    from django.utils.functional import empty

    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)  # a SimpleLazyObject, or the user itself
    if wrapped is None or wrapped is empty:
        return None
    return str(wrapped.pk) if getattr(wrapped, "is_authenticated", False) else None


class RequestLogMiddleware:
    """Outermost: gives the request its id, answers it in `X-Request-ID`, and logs one
    line when the response is ready (errors included: Django has turned them into 500s)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = uuid.uuid4().hex
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            fields = {
                "method": request.method,
                "path": _logged_path(request),
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
            }
            request_logger.info(
                "%s %s %s %sms user=%s",
                fields["method"],
                fields["path"],
                fields["status"],
                duration_ms,
                fields["user_id"] or "-",
                extra={"fields": fields},
            )
            return response
        finally:
            current_request_id.reset(token)


# Celery: one line per task, and the task's id on every line and event it writes.
_task_starts: dict[str, tuple[float, contextvars.Token]] = {}


def task_started(task_id: str | None = None, task=None, **kwargs) -> None:
    if task_id is None:
        return
    _task_starts[task_id] = (time.perf_counter(), current_task_id.set(task_id))


def task_finished(task_id: str | None = None, task=None, state: str | None = None, **kwargs):
    started = _task_starts.pop(task_id, None) if task_id else None
    if started is None:
        return
    began, token = started
    duration_ms = round((time.perf_counter() - began) * 1000, 1)
    name = getattr(task, "name", "?")
    try:
        task_logger.info(
            "%s %s %sms",
            name,
            state,
            duration_ms,
            extra={"fields": {"task": name, "state": state, "duration_ms": duration_ms}},
        )
    finally:
        try:
            current_task_id.reset(token)
        except ValueError:  # finished in another context than it started: just clear it
            current_task_id.set(None)


def connect_celery_signals() -> None:
    """Called by portal/celery.py. Celery keeps Django's LOGGING instead of its own."""
    from celery import signals

    signals.task_prerun.connect(task_started, weak=False)
    signals.task_postrun.connect(task_finished, weak=False)
    signals.setup_logging.connect(_keep_django_logging, weak=False)


def _keep_django_logging(**kwargs) -> None:
    """Connected to Celery's setup_logging: Django's settings have configured logging."""
    import django
    from django.conf import settings
    from django.utils.log import configure_logging

    django.setup(set_prefix=False)
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
