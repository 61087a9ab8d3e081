"""A member uses the vault in a real Chromium: creates a login (with the password generator),
reveals and copies its password, and sees the TOTP code counting down.

Uses the shared `browser` / `browser_login` fixtures of tests/conftest.py, which skip when
Chromium is not installed.
"""

from __future__ import annotations

import os
import shutil

import pytest

from clients.models import MemberRole
from portal.models import Event, EventType
from tests import factories
from tests.browsing import click_and_load
from vault.totp import TotpParameters, parse_totp_secret, totp_code

from .conftest import give_keys

# Playwright's sync API runs an event loop in this thread; the ORM calls here are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")),
        reason="Chromium is not installed (Debian: apt-get install chromium)",
    ),
]

TOTP_SECRET = "JBSWY3DPEHPK3PXP"


@pytest.fixture
def member(db):
    org = factories.OrganizationFactory(name="Browser Vault Co")
    give_keys(org)
    factories.CollectionFactory(org=org, name="Default collection", is_default=True)
    user = factories.UserFactory(email="member@vault.test")
    factories.MembershipFactory(org=org, user=user, role=MemberRole.OWNER)
    return org, user


def codes_around_now(secret: str) -> set[str]:
    import time

    parameters: TotpParameters = parse_totp_secret(secret)
    now = time.time()
    return {totp_code(parameters, at=now + shift).code for shift in (-30, 0, 30)}


def test_member_creates_a_login_reveals_and_copies_the_password_and_sees_the_totp_code(
    member, browser_login, live_server
):
    org, user = member
    page = browser_login(user)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)

    click_and_load(page, "nav.sidebar a:text-is('Vault')")
    click_and_load(page, "a:text-is('New item')")
    click_and_load(page, "ul.cards >> text=Login")
    page.fill("input[name=name]", "Router admin")
    page.fill("input[name=username]", "admin")
    page.click("button[name=generate]")  # JavaScript fills in a random password
    password = page.input_value("input[name=password]")
    assert len(password) == 20
    page.fill("input[name=totp]", TOTP_SECRET)
    page.check("input[name=collections]")
    click_and_load(page, "button.primary:has-text('Save')")

    assert page.locator("h1").inner_text() == "Router admin"
    assert password not in page.content()  # masked until revealed
    click_and_load(page, "form.reveal:has(input[value=password]) >> text=Reveal")
    assert password in page.locator(".secret-value").first.inner_text()

    copy = page.locator("button[data-copy-url]").first
    copy.click()
    page.locator("button[data-copy-url]:text-is('Copied')").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == password

    code = page.locator("#totp-code").inner_text()
    assert code in codes_around_now(TOTP_SECRET)
    seconds = int(page.locator("[data-totp-seconds]").inner_text())
    page.wait_for_timeout(1100)
    later = int(page.locator("[data-totp-seconds]").inner_text())
    assert later < seconds or later > 25  # counting down, or just rolled over to a new code

    recorded = set(Event.objects.filter(org=org).values_list("type", flat=True))
    assert {
        EventType.ITEM_CREATED,
        EventType.ITEM_VIEWED,
        EventType.ITEM_PASSWORD_REVEALED,
        EventType.ITEM_PASSWORD_COPIED,
    } <= recorded


def test_vault_pages_work_without_javascript(member, browser, live_server):
    org, user = member
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", factories.TEST_PASSWORD)
    click_and_load(page, "button[type=submit]")
    page.goto(f"{live_server.url}/orgs/{org.pk}/vault/new/login/")
    page.fill("input[name=name]", "No script")
    click_and_load(page, "button[name=generate]")  # the server fills the password in
    assert "A new password was generated" in page.content()
    password = page.input_value("input[name=password]")
    page.check("input[name=collections]")
    click_and_load(page, "button.primary:has-text('Save')")
    assert page.locator("button[data-copy-url]").first.is_hidden()  # copy needs JavaScript
    click_and_load(page, "form.reveal:has(input[value=password]) >> text=Reveal")
    assert password in page.locator(".secret-value").first.inner_text()
    context.close()
