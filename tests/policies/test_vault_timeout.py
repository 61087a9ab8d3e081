"""Vault timeout: settings, who it binds, and idle sessions that lock or log out."""

import time

import pytest
from django.urls import reverse

from clients.models import Membership
from policies import middleware
from policies.models import Policy, PolicyType
from policies.types import REGISTRY
from portal.models import Event, EventType
from tests.factories import TEST_PASSWORD
from tests.policies.helpers import edit_url

pytestmark = pytest.mark.django_db

KEY = PolicyType.VAULT_TIMEOUT


def policy_on(org, minutes=15, action="lock"):
    settings = {"minutes": minutes, "action": action}
    return Policy.objects.create(org=org, type=KEY, enabled=True, settings=settings)


def sign_in(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def idle(client, minutes):
    session = client.session
    session[middleware.LAST_SEEN_SESSION_KEY] = int(time.time()) - minutes * 60 - 1
    session.save()


def org_page(client, world):
    return client.get(reverse("org_overview", kwargs={"org_id": world.org.pk}))


@pytest.mark.parametrize(
    "data, message",
    [
        ({"minutes": "-5", "action": "lock"}, b"greater than or equal to 1"),
        ({"minutes": "0", "action": "lock"}, b"greater than or equal to 1"),
        ({"minutes": "99999", "action": "lock"}, b"less than or equal to 10080"),
        ({"minutes": "10", "action": "explode"}, b"Select a valid choice"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(world, login, data, message):
    page = login(world.alice).post(edit_url(world.org, KEY), {"enabled": "on", **data})
    assert page.status_code == 200 and message in page.content
    assert not Policy.objects.exists()
    assert not Event.objects.filter(type=EventType.POLICY_UPDATED).exists()


def test_saving_records_the_settings_by_name(world, login):
    login(world.alice).post(
        edit_url(world.org, KEY), {"enabled": "on", "minutes": "5", "action": "logout"}
    )
    event = Event.objects.get(type=EventType.POLICY_UPDATED)
    assert event.details["changes"] == {
        "enabled": [False, True],
        "minutes": [15, 5],
        "action": ["lock", "logout"],
    }


def test_an_idle_session_locks_and_the_password_unlocks_it(world, client):
    policy_on(world.org, minutes=10, action="lock")
    sign_in(client, world.bob)
    assert org_page(client, world).status_code in (200, 302)
    assert middleware.LOCKED_SESSION_KEY not in client.session
    idle(client, 10)
    locked = org_page(client, world)
    assert locked.status_code == 302 and locked["Location"].startswith(reverse("session_unlock"))
    # Everything else stays locked until the password is given.
    assert client.get(reverse("home"))["Location"].startswith(reverse("session_unlock"))
    wrong = client.post(reverse("session_unlock"), {"password": "not it"})
    assert wrong.status_code == 200 and b"That is not your password" in wrong.content
    target = reverse("org_overview", kwargs={"org_id": world.org.pk})
    unlocked = client.post(reverse("session_unlock"), {"password": TEST_PASSWORD, "next": target})
    assert unlocked.status_code == 302 and unlocked["Location"] == target
    assert middleware.LOCKED_SESSION_KEY not in client.session


def test_an_unlock_never_sends_to_another_site(world, client):
    policy_on(world.org, minutes=10)
    sign_in(client, world.bob)
    idle(client, 10)
    org_page(client, world)
    out = client.post(
        reverse("session_unlock"), {"password": TEST_PASSWORD, "next": "https://evil.example/"}
    )
    assert out["Location"] == reverse("home")


def test_an_idle_session_logs_out_with_that_action(world, client):
    policy_on(world.org, minutes=10, action="logout")
    sign_in(client, world.bob)
    idle(client, 10)
    out = org_page(client, world)
    assert out.status_code == 302 and out["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_an_active_session_goes_on(world, client):
    policy_on(world.org, minutes=10)
    sign_in(client, world.bob)
    idle(client, 9)
    page = client.get(reverse("org_overview", kwargs={"org_id": world.org.pk}), follow=True)
    assert page.status_code == 200
    assert not any(url.startswith(reverse("session_unlock")) for url, _ in page.redirect_chain)
    assert middleware.LOCKED_SESSION_KEY not in client.session


def test_owners_are_exempt(world, client):
    policy_on(world.org, minutes=10)
    sign_in(client, world.alice)
    idle(client, 60)
    assert org_page(client, world).status_code == 200


def test_admins_are_bound(world, client):
    policy_on(world.org, minutes=10)
    sign_in(client, world.org_admin)
    idle(client, 11)
    assert org_page(client, world)["Location"].startswith(reverse("session_unlock"))


def test_without_the_policy_nothing_times_out(world, client):
    Policy.objects.create(org=world.org, type=KEY, enabled=False, settings={"minutes": 1})
    sign_in(client, world.bob)
    idle(client, 600)
    assert not client.get(reverse("home"))["Location"].startswith(reverse("session_unlock"))


def test_several_orgs_bind_by_the_shortest_and_strictest():
    merged = REGISTRY[KEY].merge_settings(
        [
            {"minutes": 30, "action": "lock"},
            {"minutes": 10, "action": "lock"},
            {"minutes": 60, "action": "logout"},
        ]
    )
    assert merged == {"minutes": 10, "action": "logout"}


def test_the_unlock_page_sends_an_unlocked_session_home(world, login):
    assert login(world.bob).get(reverse("session_unlock"))["Location"] == reverse("home")


def _goes_on(response) -> bool:
    """The page answered (a member's org overview sends on to the vault), no lock or sign-in."""
    return response.status_code == 200 or (
        response.status_code == 302
        and not response["Location"].startswith((reverse("session_unlock"), reverse("login")))
    )


def _minute_later(client):
    """As if the session's binding was last decided over a minute ago."""
    session = client.session
    session[middleware.BINDING_CHECKED_SESSION_KEY] -= middleware.BINDING_REFRESH + 1
    session.save()


def test_a_policy_switched_on_reaches_a_session_already_open(world, client):
    sign_in(client, world.bob)
    assert middleware.TIMEOUT_SESSION_KEY not in client.session
    policy_on(world.org, minutes=10, action="lock")
    # Within the minute the session keeps what it was given at sign-in...
    assert _goes_on(org_page(client, world))
    assert middleware.TIMEOUT_SESSION_KEY not in client.session
    # ...then the policy binds it, its idle time counted from then, not from sign-in.
    _minute_later(client)
    assert _goes_on(org_page(client, world))
    assert client.session[middleware.TIMEOUT_SESSION_KEY] == [10, "lock"]
    idle(client, 10)
    _minute_later(client)
    locked = org_page(client, world)
    assert locked.status_code == 302 and locked["Location"].startswith(reverse("session_unlock"))


def test_a_changed_or_removed_policy_reaches_a_session_already_open(world, client):
    policy = policy_on(world.org, minutes=10, action="lock")
    sign_in(client, world.bob)
    policy.settings = {"minutes": 5, "action": "logout"}
    policy.save()
    _minute_later(client)
    org_page(client, world)
    assert client.session[middleware.TIMEOUT_SESSION_KEY] == [5, "logout"]
    policy.enabled = False
    policy.save()
    idle(client, 5)
    _minute_later(client)
    # Off by now: the idle session goes on instead of being signed out.
    assert _goes_on(org_page(client, world))
    assert middleware.TIMEOUT_SESSION_KEY not in client.session


def test_a_membership_ending_releases_the_session(world, client):
    policy_on(world.org, minutes=10, action="lock")
    sign_in(client, world.bob)
    assert middleware.TIMEOUT_SESSION_KEY in client.session
    Membership.objects.filter(org=world.org, user=world.bob).delete()
    _minute_later(client)
    client.get(reverse("home"))
    assert middleware.TIMEOUT_SESSION_KEY not in client.session
