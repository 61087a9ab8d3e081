"""Debug pages and error reports never show the vault's key-encryption keys."""

import base64
import os
import secrets
import sys

from django.test import RequestFactory, override_settings
from django.views.debug import (
    ExceptionReporter,
    get_default_exception_reporter_filter,
    technical_500_response,
)

from portal.error_reports import PortalExceptionReporterFilter

# Made at run time: the page quotes this file's source around the frames it shows.
KEK = "k9:" + base64.b64encode(os.urandom(32)).decode()
KEK_FILE = f"/run/secrets/{secrets.token_hex(8)}.txt"


def _raised():
    try:
        raise RuntimeError("something broke")
    except RuntimeError:
        return sys.exc_info()


def test_the_portal_filter_is_the_default():
    assert isinstance(get_default_exception_reporter_filter(), PortalExceptionReporterFilter)


@override_settings(VAULT_KEKS=KEK, VAULT_KEKS_FILE=KEK_FILE, DEV_KEK_BACKUP=KEK)
def test_settings_naming_a_kek_are_hidden():
    safe = get_default_exception_reporter_filter().get_safe_settings()
    for name in ("VAULT_KEKS", "VAULT_KEKS_FILE", "DEV_KEK_BACKUP"):
        assert safe[name] == PortalExceptionReporterFilter.cleansed_substitute, name
    assert KEK not in str(safe) and KEK_FILE not in str(safe)
    assert safe["SECRET_KEY"] == PortalExceptionReporterFilter.cleansed_substitute  # as before
    assert safe["TIME_ZONE"] == "UTC"  # the rest is still shown


@override_settings(VAULT_KEKS=KEK, VAULT_KEKS_FILE=KEK_FILE)
def test_a_technical_500_page_shows_no_kek():
    # The development server copies the environment into request.META.
    request = RequestFactory().get("/orgs/", VAULT_KEKS=KEK, VAULT_KEKS_FILE=KEK_FILE)
    page = technical_500_response(request, *_raised()).content.decode()
    assert "something broke" in page and "VAULT_KEKS" in page  # the page is the real one
    assert KEK not in page and KEK_FILE not in page
    text = ExceptionReporter(request, *_raised()).get_traceback_text()
    assert "VAULT_KEKS" in text and KEK not in text and KEK_FILE not in text


@override_settings(
    REDIS_URL="redis://:hunter2-redis@cache:6379/0",
    CELERY_BROKER_URL="redis://:hunter2-redis@cache:6379/0",
    CACHES={"default": {"BACKEND": "x", "LOCATION": "redis://:hunter2-redis@cache:6379/1"}},
)
def test_service_urls_that_may_hold_a_password_are_hidden():
    safe = get_default_exception_reporter_filter().get_safe_settings()
    assert "hunter2-redis" not in str(safe)
