"""Master password requirements: settings, the password_set hook and the login hook."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients.models import MemberRole, MemberStatus
from policies.models import Policy, PolicyType
from policies.types import REGISTRY
from policies.types.master_password import password_problems, strictest
from portal.models import Event, EventType
from tests import factories
from tests.factories import TEST_PASSWORD
from tests.policies.helpers import edit_url

pytestmark = pytest.mark.django_db

KEY = PolicyType.MASTER_PASSWORD
STRONG = "Quartz-Lantern-Meadow-71!"


def settings_data(**overrides):
    data = {"enabled": "on", "min_length": "12", "min_score": "0"}
    data.update({k: v for k, v in overrides.items() if v is not None})
    return {k: v for k, v in data.items() if v is not False}


def policy_on(org, **settings):
    base = REGISTRY[KEY].default_settings()
    return Policy.objects.create(org=org, type=KEY, enabled=True, settings={**base, **settings})


# --- Settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("min_length", "11", b"greater than or equal to 12"),
        ("min_length", "129", b"less than or equal to 128"),
        ("min_score", "5", b"Select a valid choice"),
        ("min_length", "twelve", b"Enter a whole number"),
    ],
)
def test_settings_out_of_range_are_refused_and_change_nothing(world, login, field, value, message):
    page = login(world.alice).post(edit_url(world.org, KEY), settings_data(**{field: value}))
    assert page.status_code == 200 and message in page.content
    assert page.context["settings_form"].data[field] == value  # kept as typed
    assert not Policy.objects.exists()
    assert not Event.objects.filter(type=EventType.POLICY_UPDATED).exists()


def test_saving_settings_records_each_change_by_name(world, login):
    client = login(world.alice)
    client.post(edit_url(world.org, KEY), settings_data(min_length="14", require_upper="on"))
    policy = Policy.objects.get(org=world.org, type=KEY)
    assert policy.enabled and policy.settings["min_length"] == 14
    assert policy.settings["require_upper"] is True
    event = Event.objects.get(type=EventType.POLICY_UPDATED)
    assert event.details["name"] == "Master password requirements"
    assert event.details["changes"] == {
        "enabled": [False, True],
        "min_length": [12, 14],
        "require_upper": [False, True],
    }
    page = client.get(edit_url(world.org, KEY))
    assert page.context["settings_form"].initial["min_length"] == 14


# --- The rules -------------------------------------------------------------------------


def test_the_rules_say_what_is_missing():
    rules = strictest(
        [{"min_length": 16, "require_upper": True, "require_digits": True, "require_special": True}]
    )
    problems = password_problems("lowercaseonly", rules)
    assert problems == [
        "at least 16 characters",
        "an upper-case letter",
        "a digit",
        "a special character (!@#$%^&*)",
    ]
    assert password_problems("Lowercase-only-but-long-9", rules) == []
    scored = strictest([{"min_length": 12, "min_score": 4}])
    assert "strength score" in password_problems("Password1234!", scored)[0]
    assert password_problems(STRONG + " zebra orbit", scored) == []


def test_several_orgs_bind_by_the_strictest():
    rules = strictest(
        [{"min_length": 12, "require_lower": True}, {"min_length": 20, "min_score": 2}]
    )
    assert rules["min_length"] == 20 and rules["min_score"] == 2 and rules["require_lower"]


# --- password_set: every way of setting a password ----------------------------------


def test_setting_a_password_checks_the_orgs_policies(world):
    policy_on(world.org, min_length=20, require_digits=True)
    with pytest.raises(ValidationError, match="at least 20 characters; a digit"):
        validate_password("long enough?", world.bob)
    validate_password("long enough for a policy 2026", world.bob)


def test_owners_are_bound_too(world):
    policy_on(world.org, min_length=30)
    with pytest.raises(ValidationError):
        validate_password(STRONG, world.alice)


def test_a_disabled_policy_or_another_orgs_binds_nobody(world):
    Policy.objects.create(org=world.org, type=KEY, enabled=False, settings={"min_length": 40})
    policy_on(world.other_org, min_length=40)
    validate_password(STRONG, world.bob)


def test_the_password_change_page_refuses_a_short_password(world, login):
    policy_on(world.org, min_length=30)
    client = login(world.bob)
    data = {"old_password": TEST_PASSWORD, "new_password1": STRONG, "new_password2": STRONG}
    page = client.post(reverse("password_change"), data)
    assert page.status_code == 200 and b"at least 30 characters" in page.content
    world.bob.refresh_from_db()
    assert world.bob.check_password(TEST_PASSWORD)


def test_an_invitee_creating_an_account_meets_the_policy(world):
    from portal.forms import NewAccountForm

    policy_on(world.org, min_length=30)
    factories.MembershipFactory(
        org=world.org, user=None, email="hal@example.test", status=MemberStatus.INVITED
    )
    form = NewAccountForm({"password1": STRONG, "password2": STRONG}, email="hal@example.test")
    assert not form.is_valid() and "at least 30 characters" in str(form.errors)
    other = NewAccountForm({"password1": STRONG, "password2": STRONG}, email="ivy@example.test")
    assert other.is_valid()


# --- login: "enforce at login" ---------------------------------------------------------


def goes_on(client) -> bool:
    """The member reaches their pages (home leads on to the org), not the password page."""
    page = client.get(reverse("home"), follow=True)
    chain = [url for url, _status in page.redirect_chain]
    return page.status_code == 200 and reverse("password_change") not in chain


def sign_in(client, user, password=TEST_PASSWORD):
    return client.post(reverse("login"), {"username": user.email, "password": password})


def test_enforce_at_login_sends_a_short_password_to_change_it_first(world, client):
    policy_on(world.org, min_length=30, enforce_on_login=True)
    assert sign_in(client, world.bob).status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home["Location"] == reverse("password_change")
    assert client.get(reverse("password_change")).status_code == 200
    new = STRONG + " and then some more"
    changed = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert changed.status_code == 302
    assert goes_on(client)  # free once it is changed


def test_without_enforce_at_login_the_member_goes_on(world, client):
    policy_on(world.org, min_length=30, enforce_on_login=False)
    sign_in(client, world.bob)
    assert goes_on(client)


def test_a_compliant_password_is_not_asked_to_change(world, client):
    policy_on(world.org, min_length=12, enforce_on_login=True)
    sign_in(client, world.bob)
    assert goes_on(client)


def test_a_revoked_member_is_not_bound(world, client):
    policy_on(world.org, min_length=30, enforce_on_login=True)
    world.org.memberships.filter(user=world.bob).update(status=MemberStatus.REVOKED)
    sign_in(client, world.bob)
    assert goes_on(client)


def test_an_admin_is_bound_too(world, client):
    policy_on(world.org, min_length=30, enforce_on_login=True)
    assert world.org.memberships.get(user=world.org_admin).role == MemberRole.ADMIN
    sign_in(client, world.org_admin)
    assert client.get(reverse("home"))["Location"] == reverse("password_change")
