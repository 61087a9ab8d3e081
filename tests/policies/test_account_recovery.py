"""Account recovery administration: enrolment, and owners and admins setting a password."""

import pytest
from django.core import mail
from django.urls import reverse

from clients.models import MemberRole, Membership
from policies.models import AccountRecoveryEnrollment, Policy, PolicyType
from portal.models import Event, EventType
from tests import factories
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

KEY = PolicyType.ACCOUNT_RECOVERY
NEW_PASSWORD = "Granite-Harbour-Violet-42"


def page_url(org):
    return reverse("org_account_recovery", kwargs={"org_id": org.pk})


def reset_url(org, membership):
    return reverse(
        "org_account_recovery_reset", kwargs={"org_id": org.pk, "member_id": membership.pk}
    )


def policy_on(org):
    return Policy.objects.create(org=org, type=KEY, enabled=True)


def enrol(membership):
    AccountRecoveryEnrollment.objects.create(membership=membership)
    return membership


def member(world, user):
    return Membership.objects.get(org=world.org, user=user)


def reset(client, org, membership, password=NEW_PASSWORD, again=None):
    return client.post(
        reset_url(org, membership),
        {"new_password1": password, "new_password2": again or password},
    )


# --- Enrolment -------------------------------------------------------------------------


def test_a_member_enrols_and_withdraws(world, login):
    policy_on(world.org)
    client = login(world.bob)
    assert b"not enrolled" in client.get(page_url(world.org)).content
    assert client.post(page_url(world.org), {"enroll": "1"}).status_code == 302
    bob = member(world, world.bob)
    assert AccountRecoveryEnrollment.objects.filter(membership=bob).exists()
    event = Event.objects.get(type=EventType.MEMBER_UPDATED, org=world.org)
    assert event.details["changes"] == {"account_recovery": [False, True]}
    client.post(page_url(world.org), {"enroll": "0"})
    assert not AccountRecoveryEnrollment.objects.filter(membership=bob).exists()


def test_enrolling_needs_the_policy_on(world, login):
    page = login(world.bob).post(page_url(world.org), {"enroll": "1"}, follow=True)
    assert b"does not use account recovery" in page.content
    assert not AccountRecoveryEnrollment.objects.exists()


def test_provider_staff_have_nothing_to_enrol(world, login):
    policy_on(world.org)
    assert login(world.provider_admin).post(page_url(world.org), {"enroll": "1"}).status_code == 403
    assert not AccountRecoveryEnrollment.objects.exists()


# --- Recovering ------------------------------------------------------------------------


def test_an_admin_sets_a_new_password_for_an_enrolled_member(
    world, login, django_capture_on_commit_callbacks
):
    policy_on(world.org)
    bob = enrol(member(world, world.bob))
    client = login(world.org_admin)
    listed = client.get(page_url(world.org))
    assert reset_url(world.org, bob).encode() in listed.content
    with django_capture_on_commit_callbacks(execute=True):
        done = reset(client, world.org, bob)
    assert done.status_code == 302
    world.bob.refresh_from_db()
    assert world.bob.check_password(NEW_PASSWORD)
    event = Event.objects.get(type=EventType.MEMBER_ACCOUNT_RECOVERED)
    assert event.actor == world.org_admin and event.details == {"email": bob.email}
    assert NEW_PASSWORD not in str(event.details)
    assert [m.to for m in mail.outbox] == [[world.bob.email]]
    assert NEW_PASSWORD not in mail.outbox[0].body


def test_the_members_old_sessions_end(world, login, client):
    from django.test import Client

    policy_on(world.org)
    bob = enrol(member(world, world.bob))
    bobs_browser = Client()
    bobs_browser.force_login(world.bob, backend="portal.auth_backend.AccountBackend")
    reset(login(world.alice), world.org, bob)
    assert bobs_browser.get(reverse("home")).status_code == 302  # to the login page
    assert "_auth_user_id" not in bobs_browser.session


def test_only_an_owner_recovers_an_owner(world, login):
    policy_on(world.org)
    owner = factories.MembershipFactory(org=world.org, role=MemberRole.OWNER)
    enrol(owner)
    assert login(world.org_admin).get(reset_url(world.org, owner)).status_code == 403
    assert reset(login(world.org_admin), world.org, owner).status_code == 403
    assert reset(login(world.alice), world.org, owner).status_code == 302
    owner.user.refresh_from_db()
    assert owner.user.check_password(NEW_PASSWORD)


def test_provider_staff_never_recover(world, login):
    policy_on(world.org)
    bob = enrol(member(world, world.bob))
    for who in (world.provider_admin, world.service_user):
        assert reset(login(who), world.org, bob).status_code == 403
    world.bob.refresh_from_db()
    assert world.bob.check_password(TEST_PASSWORD)


def test_users_and_strangers_cannot(world, login):
    policy_on(world.org)
    bob = enrol(member(world, world.bob))
    custom = enrol(member(world, world.custom))
    assert reset(login(world.custom), world.org, bob).status_code == 403
    assert reset(login(world.bob), world.org, custom).status_code == 403
    assert reset(login(world.charlie), world.org, bob).status_code == 404


def test_a_member_who_did_not_enrol_is_not_found(world, login):
    policy_on(world.org)
    bob = member(world, world.bob)
    assert reset(login(world.alice), world.org, bob).status_code == 404
    world.bob.refresh_from_db()
    assert world.bob.check_password(TEST_PASSWORD)


def test_a_member_of_another_org_is_not_found(world, login):
    policy_on(world.org)
    policy_on(world.other_org)
    theirs = enrol(factories.MembershipFactory(org=world.other_org))
    assert reset(login(world.alice), world.org, theirs).status_code == 404
    theirs.user.refresh_from_db()
    assert theirs.user.check_password(TEST_PASSWORD)


def test_with_the_policy_off_nothing_is_reset(world, login):
    Policy.objects.create(org=world.org, type=KEY, enabled=False)
    bob = enrol(member(world, world.bob))
    page = reset(login(world.alice), world.org, bob)
    assert page.status_code == 200 and b"does not use account recovery" in page.content
    world.bob.refresh_from_db()
    assert world.bob.check_password(TEST_PASSWORD)


def test_a_weak_or_mistyped_password_is_refused(world, login):
    policy_on(world.org)
    Policy.objects.create(
        org=world.org, type=PolicyType.MASTER_PASSWORD, enabled=True, settings={"min_length": 30}
    )
    bob = enrol(member(world, world.bob))
    client = login(world.alice)
    short = reset(client, world.org, bob)
    assert short.status_code == 200 and b"at least 30 characters" in short.content
    differ = reset(client, world.org, bob, again=NEW_PASSWORD + "x")
    assert differ.status_code == 200 and b"didn" in differ.content
    world.bob.refresh_from_db()
    assert world.bob.check_password(TEST_PASSWORD)
    assert not Event.objects.filter(type=EventType.MEMBER_ACCOUNT_RECOVERED).exists()


def test_nobody_recovers_their_own_account(world, login):
    policy_on(world.org)
    alice = enrol(member(world, world.alice))
    assert reset(login(world.alice), world.org, alice).status_code == 403
