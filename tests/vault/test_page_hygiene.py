"""What every vault response does whatever it shows: `no-store`, no inline script, and no
error report that could quote a secret the request carried."""

from __future__ import annotations

import re

import pytest
from django.views.debug import SafeExceptionReporterFilter

from vault.content import ItemType

from .conftest import HIDDEN_PIN, PASSWORD, TOTP_SECRET, login_content
from .helpers import form_post, vault_url
from .test_provider_denial import vault_route_names
from .test_provider_denial import vault_url as route_url

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)|\son[a-z]+=", re.IGNORECASE)


def test_every_vault_response_is_no_store(vault_world, login):
    w = vault_world
    client = login(w.alice)
    checked = set()
    for name in vault_route_names():
        url = route_url(name, w.org, w.item)
        data = form_post("login", collections=[w.collection], name="Bank login", revision=1)
        for response in (client.get(url), client.post(url, data)):
            if response.status_code in (403, 404, 405):
                continue  # the error pages, which show nothing of the vault
            checked.add(name)
            assert "no-store" in response.get("Cache-Control", ""), (name, response.status_code)
            assert not INLINE_SCRIPT.search(response.content), name  # CSP: script-src 'self'
    assert checked == set(vault_route_names())  # each route answered at least once


@pytest.mark.parametrize(
    ("route", "data"),
    [
        ("item_list", {"q": "Bank"}),
        ("item_detail", {"field": "password", "account_password": "my-account-pw"}),
        ("item_edit", {"password": PASSWORD, "totp": TOTP_SECRET}),
        ("item_new", {"password": PASSWORD, "custom-0-value": HIDDEN_PIN}),
    ],
)
def test_requests_carrying_secrets_are_hidden_from_error_reports(vault_world, login, route, data):
    w = vault_world
    kwargs = {"item_type": ItemType.LOGIN} if route == "item_new" else {}
    item = None if route in ("item_list", "item_new") else w.item
    response = login(w.alice).post(vault_url(route, w.org, item, **kwargs), data)
    request = response.wsgi_request
    cleansed = SafeExceptionReporterFilter().get_post_parameters(request)
    for key in data:
        assert cleansed[key] == SafeExceptionReporterFilter.cleansed_substitute, (route, key)


def test_decrypted_values_have_reprs_without_values():
    from vault.display import DisplayRow
    from vault.totp import parse_totp_secret, totp_code

    content = login_content()
    text = repr(content) + repr(content.custom_fields) + repr(content.uris)
    text += repr(DisplayRow("Password", PASSWORD)) + repr(parse_totp_secret(TOTP_SECRET))
    code = totp_code(parse_totp_secret(TOTP_SECRET))
    for value in (PASSWORD, TOTP_SECRET, HIDDEN_PIN, "Bank login", "bank.example", code.code):
        assert value not in text + repr(code), value
    assert repr(content) == "ItemContent(type='login', redacted=False)"  # still says what it is
