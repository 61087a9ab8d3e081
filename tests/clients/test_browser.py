"""The client administration flow in a real browser: a provider admin invites a member
into a client, the member accepts in a second browser, the provider confirms them and
grants a collection, and the member finds that collection's item in the vault while the
provider still reaches no item."""

import os

import pytest

from clients.models import AccessLevel, Collection, Membership, MemberStatus
from providers.models import ProviderRole
from tests import factories
from tests.browsing import click_and_load
from tests.providers.helpers import accept_url_from_outbox
from tests.vault.conftest import give_keys, login_content, make_item

# Playwright's sync API runs an event loop in this thread; the ORM calls here are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEM_NAME = "Payroll portal"


def test_provider_invites_confirms_and_grants_and_the_member_finds_the_item(
    browser, browser_login, live_server, settings
):
    settings.PORTAL_BASE_URL = live_server.url
    provider = factories.ProviderFactory(name="Browser MSP")
    admin = factories.ProviderUserFactory(provider=provider, role=ProviderRole.ADMIN).user
    org = factories.OrganizationFactory(name="Newco", provider=provider, seats=5)
    owner = factories.UserFactory(email="owner@newco.test")
    factories.MembershipFactory(org=org, user=owner, role="owner")
    give_keys(org)
    finance = factories.CollectionFactory(org=org, name="Finance")
    make_item(owner, org, [finance], content=login_content(ITEM_NAME))

    # The provider admin enters the client and invites a member.
    page = browser_login(admin)
    page.goto(f"{live_server.url}/orgs/{org.pk}/members/")
    click_and_load(page, "text=Invite members")
    page.fill("textarea[name=emails]", "dana@newco.test")
    page.check("input[name=role][value=user]")
    click_and_load(page, "button:has-text('Send invitations')")
    assert "dana@newco.test" in page.locator("table").inner_text()

    # Dana accepts in a browser of her own, setting a password.
    dana_context = browser.new_context()
    try:
        dana_page = dana_context.new_page()
        dana_page.goto(accept_url_from_outbox())
        dana_page.fill("input[name=password1]", "a long new passphrase")
        dana_page.fill("input[name=password2]", "a long new passphrase")
        click_and_load(dana_page, "button:has-text('Accept invitation')")
        dana = Membership.objects.get(org=org, email="dana@newco.test")
        assert dana.status == MemberStatus.ACCEPTED
        # Not confirmed yet: the org answers as to a stranger.
        response = dana_page.goto(f"{live_server.url}/orgs/{org.pk}/vault/")
        assert response.status == 404

        # The provider confirms her from the list, then grants Finance on her edit page.
        page.reload()
        page.check(f"#member-{dana.pk}")
        click_and_load(page, "button[value=confirm]")
        assert "1 confirmed" in page.locator(".messages").inner_text()
        page.goto(f"{live_server.url}/orgs/{org.pk}/members/{dana.pk}/edit/")
        page.select_option(f"select[name=collection_{finance.pk}]", AccessLevel.VIEW)
        click_and_load(page, "button[type=submit]:has-text('Save')")
        assert Membership.objects.get(pk=dana.pk).status == MemberStatus.CONFIRMED
        assert finance.member_grants.get(membership=dana).level == AccessLevel.VIEW

        # Dana's vault shows the collection and its item.
        dana_page.goto(f"{live_server.url}/orgs/{org.pk}/vault/")
        assert "Finance" in dana_page.content()
        assert ITEM_NAME in dana_page.locator("table").inner_text()
    finally:
        dana_context.close()

    # The provider still reaches no item: the vault is a 404, and no page names the item.
    response = page.goto(f"{live_server.url}/orgs/{org.pk}/vault/")
    assert response.status == 404
    for path in ("", "members/", "collections/", "events/"):
        page.goto(f"{live_server.url}/orgs/{org.pk}/{path}")
        assert ITEM_NAME not in page.content(), path
    assert Collection.objects.get(pk=finance.pk).items.count() == 1
