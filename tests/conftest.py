"""Shared fixtures. The trio, after STYLE.md: alice owns an org, bob is in alice's org
with a lower role, charlie is a stranger. Provider staff manage alice's org."""

from dataclasses import dataclass

import pytest

from clients.models import AccessLevel, Collection, MemberRole
from portal.models import User
from providers.models import Provider, ProviderRole
from tests.browsing import click_and_load

from . import factories


@dataclass
class World:
    org: object
    other_org: object
    provider: object
    other_provider: object
    alice: User  # owner of org
    bob: User  # user in org
    charlie: User  # stranger
    org_admin: User
    custom: User  # custom role with "manage users" only
    provider_admin: User
    service_user: User
    other_provider_admin: User
    collection: Collection
    other_collection: Collection


@pytest.fixture
def world(db) -> World:
    provider: Provider = factories.ProviderFactory(name="Demo MSP")
    other_provider = factories.ProviderFactory(name="Other MSP")
    org = factories.OrganizationFactory(name="Alice Co", provider=provider)
    other_org = factories.OrganizationFactory(name="Other Co", provider=other_provider)
    alice = factories.UserFactory(email="alice@example.test")
    bob = factories.UserFactory(email="bob@example.test")
    charlie = factories.UserFactory(email="charlie@example.test")
    org_admin = factories.UserFactory(email="admin@example.test")
    custom = factories.UserFactory(email="custom@example.test")
    factories.MembershipFactory(org=org, user=alice, role=MemberRole.OWNER)
    bob_membership = factories.MembershipFactory(org=org, user=bob, role=MemberRole.USER)
    factories.MembershipFactory(org=org, user=org_admin, role=MemberRole.ADMIN)
    factories.MembershipFactory(org=org, user=custom, role=MemberRole.CUSTOM, can_manage_users=True)
    factories.MembershipFactory(org=other_org, user=charlie, role=MemberRole.OWNER)
    provider_admin = factories.ProviderUserFactory(provider=provider, role=ProviderRole.ADMIN).user
    service_user = factories.ProviderUserFactory(
        provider=provider, role=ProviderRole.SERVICE_USER
    ).user
    other_provider_admin = factories.ProviderUserFactory(
        provider=other_provider, role=ProviderRole.ADMIN
    ).user
    collection = factories.CollectionFactory(org=org, name="Shared")
    factories.CollectionMemberGrantFactory(
        collection=collection, membership=bob_membership, level=AccessLevel.VIEW
    )
    other_collection = factories.CollectionFactory(org=other_org, name="Theirs")
    return World(
        org=org,
        other_org=other_org,
        provider=provider,
        other_provider=other_provider,
        alice=alice,
        bob=bob,
        charlie=charlie,
        org_admin=org_admin,
        custom=custom,
        provider_admin=provider_admin,
        service_user=service_user,
        other_provider_admin=other_provider_admin,
        collection=collection,
        other_collection=other_collection,
    )


@pytest.fixture
def login(client):
    """Log the test client in as a user (or out, with None) and return it."""

    def _login(user):
        client.logout()
        if user is not None:
            client.force_login(user, backend="portal.auth_backend.AccountBackend")
        return client

    return _login


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    import os
    import shutil

    path = shutil.which("chromium") or "/usr/bin/chromium"
    return path if os.path.exists(path) else None


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; skips where Chromium is not installed."""
    import os

    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    # Playwright's sync API runs an event loop; Django's ORM calls from the test are safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def browser_login(browser, live_server):
    """A new browser context signed in as `user` through the real login form."""
    contexts = []

    def _login(user, password: str = factories.TEST_PASSWORD):
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.email)
        page.fill("input[name=password]", password)
        click_and_load(page, "button[type=submit]")
        return page

    yield _login
    for context in contexts:
        context.close()
