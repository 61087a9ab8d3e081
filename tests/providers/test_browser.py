"""A provider admin creates a client; its owner accepts the emailed invitation in a second
browser; the client shows on the dashboard with its confirmed owner."""

import os

import pytest
from django.core import mail

from clients.models import Membership, MemberStatus
from providers.models import ProviderRole
from tests import factories

from .helpers import accept_url_from_outbox

# Playwright's sync API runs an event loop in this thread; the ORM calls here are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_provider_creates_a_client_and_its_owner_accepts(
    browser, browser_login, live_server, settings
):
    settings.PORTAL_BASE_URL = live_server.url
    provider = factories.ProviderFactory(name="Browser MSP")
    admin = factories.ProviderUserFactory(provider=provider, role=ProviderRole.ADMIN).user

    page = browser_login(admin)
    assert page.url.endswith(f"/providers/{provider.pk}/")
    page.click("text=New client")
    page.fill("input[name=name]", "Fresh Client")
    page.select_option("select[name=plan]", "enterprise")
    page.fill("input[name=seats]", "12")
    page.fill("input[name=owner_email]", "owner@fresh.test")
    page.click("button:has-text('Create client')")
    assert "Client Fresh Client created" in page.locator(".messages").inner_text()
    assert mail.outbox[-1].to == ["owner@fresh.test"]

    owner_context = browser.new_context()
    try:
        owner_page = owner_context.new_page()
        owner_page.goto(accept_url_from_outbox())
        assert "Fresh Client" in owner_page.content()
        owner_page.fill("input[name=password1]", "a long new passphrase")
        owner_page.fill("input[name=password2]", "a long new passphrase")
        owner_page.click("button:has-text('Accept invitation')")
        owner_page.wait_for_load_state()
        assert owner_page.locator("h1").inner_text() == "Fresh Client"
    finally:
        owner_context.close()
    owner = Membership.objects.get(email="owner@fresh.test")
    assert owner.status == MemberStatus.CONFIRMED

    page.reload()
    row = page.locator("table.list tr", has_text="Fresh Client")
    cells = row.locator("td").all_inner_texts()
    assert cells[:5] == ["Fresh Client", "Enterprise", "12", "1", "1"]  # one confirmed owner
