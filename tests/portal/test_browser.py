"""The foundation's main flows in a real browser."""

import pytest

from clients.models import MemberRole
from providers.models import ProviderRole
from tests import factories
from tests.browsing import click_and_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tenants(db):
    provider = factories.ProviderFactory(name="Browser MSP")
    admin = factories.ProviderUserFactory(provider=provider, role=ProviderRole.ADMIN).user
    org = factories.OrganizationFactory(name="Browser Client", provider=provider)
    owner = factories.UserFactory(email="owner@browser.test")
    factories.MembershipFactory(org=org, user=owner, role=MemberRole.OWNER)
    factories.OrganizationFactory(name="Someone Else", provider=factories.ProviderFactory())
    return provider, admin, org, owner


def test_provider_admin_signs_in_and_enters_a_client(tenants, browser_login, live_server):
    provider, admin, org, owner = tenants
    page = browser_login(admin)
    assert page.url.endswith(f"/providers/{provider.pk}/")
    assert page.locator("table.list").inner_text().count("Browser Client") == 1
    assert "Someone Else" not in page.content()
    click_and_load(page, "text=Browser Client")
    assert page.url.endswith(f"/orgs/{org.pk}/")
    click_and_load(page, "nav.sidebar >> text=Members")
    assert "owner@browser.test" in page.locator("table.list").inner_text()


def test_owner_signs_in_to_their_org_and_signs_out(tenants, browser_login, live_server):
    _, _, org, owner = tenants
    page = browser_login(owner)
    assert page.url.endswith(f"/orgs/{org.pk}/")
    assert page.locator("h1").inner_text() == "Browser Client"
    click_and_load(page, "text=Sign out")
    assert page.url.endswith("/accounts/login/")


def test_wrong_password_keeps_the_email_and_says_why(tenants, browser, live_server):
    _, admin, _, _ = tenants
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", admin.email)
    page.fill("input[name=password]", "not the password")
    click_and_load(page, "button[type=submit]")
    assert "Please enter a correct email and password" in page.content()
    assert page.input_value("input[name=username]") == admin.email
    context.close()
