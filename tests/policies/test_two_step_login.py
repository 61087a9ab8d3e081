"""Require two-step login: switched on, accept, confirm, restore, and turning it off."""

import pytest
from django.core import mail
from django.urls import reverse

from clients.models import MemberRole, Membership, MemberStatus
from clients.services.members import MemberError, member_confirm, member_restore
from policies.models import Policy, PolicyType
from policies.types import REGISTRY
from portal.access import resolve
from portal.models import Event, EventType
from portal.services import (
    InvitationError,
    invitation_accept,
    invitation_create,
    two_step_disable,
)
from tests import factories
from tests.policies.helpers import edit_url, give_two_step

pytestmark = pytest.mark.django_db

KEY = PolicyType.TWO_STEP_LOGIN


def switch_on(client, org):
    return client.post(edit_url(org, KEY), {"enabled": "on"}, follow=True)


def policy_on(org):
    return Policy.objects.create(org=org, type=KEY, enabled=True)


def status_of(membership) -> str:
    return Membership.objects.get(pk=membership.pk).status


def test_it_is_offered_and_has_no_settings():
    policy_type = REGISTRY[KEY]
    assert policy_type.title == "Require two-step login"
    assert policy_type.settings_of(None) == {}


# --- Switched on ---------------------------------------------------------------------


def test_switching_on_revokes_members_without_two_step(
    world, login, django_capture_on_commit_callbacks
):
    carol = factories.MembershipFactory(org=world.org, status=MemberStatus.ACCEPTED)
    dave = factories.MembershipFactory(org=world.org)
    give_two_step(dave.user)
    invited = factories.MembershipFactory(
        org=world.org, user=None, email="new@example.test", status=MemberStatus.INVITED
    )
    elsewhere = factories.MembershipFactory(org=world.other_org)
    bob = Membership.objects.get(org=world.org, user=world.bob)
    custom = Membership.objects.get(org=world.org, user=world.custom)

    with django_capture_on_commit_callbacks(execute=True):
        page = switch_on(login(world.alice), world.org)

    assert b"3 members without two-step login revoked" in page.content
    for revoked in (bob, custom, carol):
        assert status_of(revoked) == MemberStatus.REVOKED
    assert Membership.objects.get(pk=carol.pk).prior_status == MemberStatus.ACCEPTED
    # Owners and admins are exempt; members with two-step stay; invitees have no account.
    for kept in (dave, invited, elsewhere):
        assert status_of(kept) != MemberStatus.REVOKED
    assert (
        Membership.objects.filter(
            org=world.org,
            role__in=[MemberRole.OWNER, MemberRole.ADMIN],
            status=MemberStatus.CONFIRMED,
        ).count()
        == 2
    )
    events = Event.objects.filter(type=EventType.MEMBER_REVOKED, org=world.org)
    assert events.count() == 3
    assert {event.details["policy"] for event in events} == {"two_step_login"}
    assert all(event.actor == world.alice for event in events)
    # Each revoked member is told why.
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        m.email for m in (bob, custom, carol)
    )
    assert "requires two-step login" in mail.outbox[0].body
    assert reverse("two_step") in mail.outbox[0].body


def test_switching_on_again_after_off_does_not_revoke_those_already_revoked(
    world, login, django_capture_on_commit_callbacks
):
    client = login(world.alice)
    switch_on(client, world.org)
    client.post(edit_url(world.org, KEY), {})
    with django_capture_on_commit_callbacks(execute=True):
        switch_on(client, world.org)
    assert Event.objects.filter(type=EventType.MEMBER_REVOKED).count() == 2  # bob, custom once
    assert not mail.outbox


def test_a_provider_switching_it_on_is_named_on_the_revocations(world, login):
    switch_on(login(world.provider_admin), world.org)
    event = Event.objects.filter(type=EventType.MEMBER_REVOKED, org=world.org).first()
    assert event.acting_provider == world.provider


def test_while_off_nothing_is_revoked(world, login):
    login(world.alice).post(edit_url(world.org, KEY), {})
    assert not Membership.objects.filter(status=MemberStatus.REVOKED).exists()


# --- Accepting an invitation ---------------------------------------------------------


def _invited(org, email, role=MemberRole.USER):
    membership = factories.MembershipFactory(
        org=org, user=None, email=email, role=role, status=MemberStatus.INVITED
    )
    return invitation_create(email=email, membership=membership), membership


def test_an_invitee_without_two_step_cannot_accept(world):
    policy_on(world.org)
    user = factories.UserFactory(email="erin@example.test")
    invitation, membership = _invited(world.org, user.email)
    with pytest.raises(InvitationError, match="requires two-step login"):
        invitation_accept(invitation=invitation, user=user)
    assert status_of(membership) == MemberStatus.INVITED

    give_two_step(user)
    invitation.refresh_from_db()
    invitation.used_at = None  # the refused attempt ran in a transaction the view rolls back
    invitation.save(update_fields=["used_at"])
    invitation_accept(invitation=invitation, user=user)
    assert status_of(membership) == MemberStatus.ACCEPTED


def test_the_accept_page_says_why_and_changes_nothing(world, client):
    from portal.views import INVITATION_SESSION_KEY

    policy_on(world.org)
    user = factories.UserFactory(email="erin@example.test")
    invitation, membership = _invited(world.org, user.email)
    invitation.token_hash = "a" * 64
    invitation.save(update_fields=["token_hash"])
    client.force_login(user, backend="portal.auth_backend.AccountBackend")
    session = client.session
    session[INVITATION_SESSION_KEY] = invitation.token_hash
    session.save()
    page = client.post(reverse("invitation_accept"), follow=True)
    # Sent to turn it on, told why.
    assert page.redirect_chain == [(reverse("two_step"), 302)]
    assert b"requires two-step login" in page.content
    invitation.refresh_from_db()
    assert invitation.used_at is None and status_of(membership) == MemberStatus.INVITED


def test_an_admin_invitee_is_exempt(world):
    policy_on(world.org)
    user = factories.UserFactory(email="fay@example.test")
    invitation, membership = _invited(world.org, user.email, role=MemberRole.ADMIN)
    invitation_accept(invitation=invitation, user=user)
    assert status_of(membership) == MemberStatus.ACCEPTED


# --- Confirming and restoring ----------------------------------------------------------


def test_a_member_without_two_step_cannot_be_confirmed(world):
    policy_on(world.org)
    membership = factories.MembershipFactory(org=world.org, status=MemberStatus.ACCEPTED)
    actor = resolve(world.alice, world.org)
    with pytest.raises(MemberError, match="must turn it on first"):
        member_confirm(actor=actor, membership=membership)
    assert status_of(membership) == MemberStatus.ACCEPTED
    give_two_step(membership.user)
    member_confirm(actor=actor, membership=membership)
    assert status_of(membership) == MemberStatus.CONFIRMED


def test_the_members_page_shows_the_refusal(world, login):
    policy_on(world.org)
    membership = factories.MembershipFactory(org=world.org, status=MemberStatus.ACCEPTED)
    page = login(world.alice).post(
        reverse("org_members_bulk", kwargs={"org_id": world.org.pk}),
        {"action": "confirm", "members": [membership.pk]},
        follow=True,
    )
    assert b"must turn it on first" in page.content
    assert status_of(membership) == MemberStatus.ACCEPTED


def test_a_revoked_member_is_restored_only_once_enrolled(world, login):
    switch_on(login(world.alice), world.org)
    bob = Membership.objects.get(org=world.org, user=world.bob)
    actor = resolve(world.alice, world.org)
    with pytest.raises(MemberError, match="must turn it on first"):
        member_restore(actor=actor, membership=bob)
    assert status_of(bob) == MemberStatus.REVOKED
    give_two_step(world.bob)
    member_restore(actor=actor, membership=bob)
    assert status_of(bob) == MemberStatus.CONFIRMED


def test_with_the_policy_off_confirming_needs_no_two_step(world):
    Policy.objects.create(org=world.org, type=KEY, enabled=False)
    membership = factories.MembershipFactory(org=world.org, status=MemberStatus.ACCEPTED)
    member_confirm(actor=resolve(world.alice, world.org), membership=membership)
    assert status_of(membership) == MemberStatus.CONFIRMED


# --- Turning two-step login off ------------------------------------------------------


def test_a_member_who_turns_two_step_off_is_revoked(world, django_capture_on_commit_callbacks):
    policy_on(world.org)
    give_two_step(world.bob)
    other = factories.MembershipFactory(org=world.other_org, user=world.bob)
    with django_capture_on_commit_callbacks(execute=True):
        two_step_disable(user=world.bob)
    bob = Membership.objects.get(org=world.org, user=world.bob)
    assert status_of(bob) == MemberStatus.REVOKED
    assert status_of(other) == MemberStatus.CONFIRMED  # that org has no such policy
    event = Event.objects.get(type=EventType.MEMBER_REVOKED, org=world.org)
    assert event.actor == world.bob and event.details["policy"] == "two_step_login"
    assert [message.to for message in mail.outbox] == [[world.bob.email]]


def test_an_owner_who_turns_two_step_off_stays(world):
    policy_on(world.org)
    give_two_step(world.alice)
    two_step_disable(user=world.alice)
    assert Membership.objects.get(org=world.org, user=world.alice).status == MemberStatus.CONFIRMED


def test_a_new_invitee_keeps_the_account_enrols_and_then_accepts(world, client):
    """Someone without an account cannot have two-step login before the invitation
    creates it: the account is kept and signed in, sent to enrol, then accepts."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from portal.views import INVITATION_SESSION_KEY
    from tests.factories import TEST_PASSWORD
    from tests.portal.test_two_step import code_for

    policy_on(world.org)
    invitation, membership = _invited(world.org, "gus@example.test")
    invitation.token_hash = "b" * 64
    invitation.save(update_fields=["token_hash"])
    session = client.session
    session[INVITATION_SESSION_KEY] = invitation.token_hash
    session.save()
    account = {"name": "Gus", "password1": TEST_PASSWORD, "password2": TEST_PASSWORD}

    refused = client.post(reverse("invitation_accept"), account)
    assert refused.status_code == 302 and refused["Location"] == reverse("two_step")
    assert "_auth_user_id" in client.session
    invitation.refresh_from_db()
    assert invitation.used_at is None and status_of(membership) == MemberStatus.INVITED

    form = client.get(reverse("two_step")).context["form"]
    codes_page = client.post(
        reverse("two_step"),
        {"pending_key": form.signed_key, "token": code_for(TOTPDevice(key=form.key))},
        follow=True,
    )
    assert reverse("invitation_accept").encode() in codes_page.content
    accepted = client.post(reverse("invitation_accept"))
    assert accepted.status_code == 302
    assert status_of(membership) == MemberStatus.ACCEPTED
