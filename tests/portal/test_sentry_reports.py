"""Error reports to Sentry (SENTRY_DSN): a real report through the SDK, captured before it
would leave, holds the exception and the request's path and id, and nothing secret."""

from __future__ import annotations

import json

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path

pytestmark = pytest.mark.django_db

POSTED_SECRET = "Zq9-posted-pa55word"
LOCAL_SECRET = "Zq9-decrypted-item-value"
COOKIE_SECRET = "Zq9-cookie-value"
QUERY_TOKEN = "Zq9-query-token"
HEADER_SECRET = "Zq9-header-value"


def failing_view(request):
    decrypted = LOCAL_SECRET  # a frame's local, as when opening an item fails
    assert request.POST["password"]
    raise RuntimeError(f"failed after reading {len(decrypted)} characters")


def quiet_view(request):
    return HttpResponse("ok")


urlpatterns = [path("boom/", failing_view), path("quiet/", quiet_view)]


@pytest.fixture
def sentry_events(settings):
    sentry_sdk = pytest.importorskip("sentry_sdk")
    from sentry_sdk.transport import Transport

    from portal.logging_sentry import init_sentry

    events: list[dict] = []

    class Captured(Transport):
        def capture_envelope(self, envelope):
            event = envelope.get_event()
            if event is not None:
                events.append(json.loads(json.dumps(event, default=str)))

    init_sentry(
        dsn="https://public@sentry.example.invalid/1", environment="test", transport=Captured()
    )
    try:
        yield events
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)


@pytest.mark.urls(__name__)
def test_a_report_keeps_the_error_and_drops_every_secret(sentry_events, settings):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = COOKIE_SECRET
    client.get("/quiet/")  # a request before the error: its breadcrumbs come along
    response = client.post(
        f"/boom/?token={QUERY_TOKEN}",
        {"password": POSTED_SECRET},
        HTTP_AUTHORIZATION=f"Bearer {HEADER_SECRET}",
    )
    assert response.status_code == 500
    assert len(sentry_events) == 1
    (event,) = sentry_events
    report = json.dumps(event)
    assert "RuntimeError" in report and "failed after reading" in report
    assert event["transaction"] == "/boom/"
    assert set(event.get("request", {})) <= {"method", "url"}
    assert event["tags"]["request_id"] == response["X-Request-ID"]
    for secret in (
        POSTED_SECRET,
        LOCAL_SECRET,
        COOKIE_SECRET,
        QUERY_TOKEN,
        HEADER_SECRET,
        settings.SECRET_KEY,
        settings.VAULT_KEKS.split(":", 1)[1],
    ):
        assert secret not in report, secret
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames and not any("vars" in frame for frame in frames)


def test_without_a_dsn_nothing_is_set_up(settings):
    assert settings.SENTRY_DSN == ""
    sentry_sdk = pytest.importorskip("sentry_sdk")
    assert not sentry_sdk.get_client().is_active()


def test_the_scrubber_drops_what_an_sdk_default_or_integration_may_add():
    """Whatever the SDK's defaults become, before_send leaves only what is listed."""
    from portal.logging_sentry import scrub_event

    event = {
        "request": {
            "method": "POST",
            "url": f"https://portal.test/invitations/open/?token={QUERY_TOKEN}",
            "query_string": f"token={QUERY_TOKEN}",
            "data": {"password": POSTED_SECRET},
            "cookies": {"sessionid": COOKIE_SECRET},
            "headers": {"Authorization": f"Bearer {HEADER_SECRET}"},
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"email": "alice@example.test", "ip_address": "203.0.113.9"},
        "extra": {"celery-job": {"args": [POSTED_SECRET], "kwargs": {}}},
        "tags": {"celery_task_name": "vault.tasks.run_import", "url": QUERY_TOKEN},
        "exception": {
            "values": [{"stacktrace": {"frames": [{"function": "f", "vars": {"x": LOCAL_SECRET}}]}}]
        },
        "breadcrumbs": {
            "values": [
                {"category": "query", "message": f"UPDATE x SET y = '{POSTED_SECRET}'"},
                {
                    "category": "django.request",
                    "message": f"Not Found: /invitations/{QUERY_TOKEN}/",
                },
                {"category": "portal.request", "message": "GET /healthz/ 200", "data": {"x": 1}},
            ]
        },
    }
    scrubbed = scrub_event(event)
    report = json.dumps(scrubbed)
    for secret in (QUERY_TOKEN, POSTED_SECRET, COOKIE_SECRET, HEADER_SECRET, LOCAL_SECRET):
        assert secret not in report, secret
    assert "alice@example.test" not in report and "203.0.113.9" not in report
    assert scrubbed["request"] == {"method": "POST", "url": "https://portal.test/invitations/open/"}
    assert scrubbed["tags"] == {"celery_task_name": "vault.tasks.run_import"}
    assert [c["category"] for c in scrubbed["breadcrumbs"]["values"]] == ["portal.request"]
