"""In the browser: an owner requires two-step login, a member without it is revoked and
emailed, enrols with a code computed from the key on the page, is restored by the owner,
and reaches the vault again."""

import os
from base64 import b32decode

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.oath import totp

from clients.models import MemberRole, Membership, MemberStatus
from policies.models import PolicyType
from tests import factories
from tests.browsing import click_and_load
from tests.policies.helpers import edit_url
from tests.vault.conftest import give_keys

# Playwright's sync API runs an event loop in this thread; the ORM calls here are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_for_key_shown(page) -> str:
    """What an authenticator app shows for the key printed on the enrolment page."""
    key = page.locator("code.secret-key").inner_text()
    secret = b32decode("".join(key.split()).upper())
    return f"{totp(secret):06d}"


def status_of(membership) -> str:
    return Membership.objects.get(pk=membership.pk).status


def test_a_revoked_member_enrols_and_is_restored(browser_login, live_server, settings):
    settings.PORTAL_BASE_URL = live_server.url
    org = factories.OrganizationFactory(name="Browser Co")
    give_keys(org)
    owner = factories.UserFactory(email="owner@browser.test")
    factories.MembershipFactory(org=org, user=owner, role=MemberRole.OWNER)
    member = factories.UserFactory(email="member@browser.test")
    membership = factories.MembershipFactory(org=org, user=member, role=MemberRole.USER)
    vault_url = live_server.url + reverse("vault_item_list", kwargs={"org_id": org.pk})

    member_page = browser_login(member)
    assert member_page.goto(vault_url).status == 200

    # The owner switches the policy on: the member without two-step login is revoked.
    owner_page = browser_login(owner)
    owner_page.goto(live_server.url + edit_url(org, PolicyType.TWO_STEP_LOGIN))
    owner_page.check("input[name=enabled]")
    click_and_load(owner_page, "main button.primary:has-text('Save')")
    assert "1 member without two-step login revoked" in owner_page.locator(".messages").inner_text()
    assert status_of(membership) == MemberStatus.REVOKED
    assert any(message.to == [member.email] for message in mail.outbox)
    assert member_page.goto(vault_url).status == 404

    # The member turns two-step login on with the key shown on the page.
    member_page.goto(live_server.url + reverse("two_step"))
    member_page.fill("input[name=token]", code_for_key_shown(member_page))
    click_and_load(member_page, "button:has-text('Turn on two-step login')")
    assert "Two-step login is on" in member_page.locator(".messages").inner_text()

    # The owner restores them from the members page.
    owner_page.goto(live_server.url + reverse("org_members", kwargs={"org_id": org.pk}))
    owner_page.check(f"#member-{membership.pk}")
    click_and_load(owner_page, "button[value=restore]")
    assert "restored" in owner_page.locator(".messages").inner_text()
    assert status_of(membership) == MemberStatus.CONFIRMED

    assert member_page.goto(vault_url).status == 200
    assert "Browser Co" in member_page.content()
