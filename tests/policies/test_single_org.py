"""Single organization: switched on, and joining a second org either way round."""

import pytest
from django.core import mail

from clients.models import MemberRole, Membership, MemberStatus
from clients.services.members import MemberError, member_confirm, member_restore
from policies.models import Policy, PolicyType
from portal.access import resolve
from portal.models import Event, EventType
from portal.services import InvitationError, invitation_accept, invitation_create
from tests import factories
from tests.policies.helpers import edit_url

pytestmark = pytest.mark.django_db

KEY = PolicyType.SINGLE_ORG


def policy_on(org):
    return Policy.objects.create(org=org, type=KEY, enabled=True)


def status_of(membership) -> str:
    return Membership.objects.get(pk=membership.pk).status


def test_switching_on_revokes_members_who_belong_elsewhere(
    world, login, django_capture_on_commit_callbacks
):
    bob = Membership.objects.get(org=world.org, user=world.bob)
    factories.MembershipFactory(org=world.other_org, user=world.bob)  # bob is elsewhere too
    admin_elsewhere = factories.MembershipFactory(org=world.other_org, user=world.org_admin)
    pending_elsewhere = factories.MembershipFactory(
        org=world.other_org, user=world.custom, status=MemberStatus.INVITED
    )
    with django_capture_on_commit_callbacks(execute=True):
        page = login(world.alice).post(edit_url(world.org, KEY), {"enabled": "on"}, follow=True)
    assert b"1 member of another organization revoked" in page.content
    assert status_of(bob) == MemberStatus.REVOKED
    # Admins are exempt; an invitation elsewhere is not membership yet.
    assert Membership.objects.get(org=world.org, user=world.org_admin).status == "confirmed"
    assert status_of(admin_elsewhere) == MemberStatus.CONFIRMED
    assert Membership.objects.get(org=world.org, user=world.custom).status == "confirmed"
    assert status_of(pending_elsewhere) == MemberStatus.INVITED
    event = Event.objects.get(type=EventType.MEMBER_REVOKED)
    assert event.details["policy"] == "single_org" and event.org == world.org
    assert [m.to for m in mail.outbox] == [[world.bob.email]]
    assert "no other organization" in mail.outbox[0].body


def test_switching_off_and_on_leaves_the_others_alone(world, login):
    login(world.alice).post(edit_url(world.org, KEY), {"enabled": "on"})
    assert not Membership.objects.filter(status=MemberStatus.REVOKED).exists()


def _invitation(org, user, role=MemberRole.USER):
    membership = factories.MembershipFactory(
        org=org, user=None, email=user.email, role=role, status=MemberStatus.INVITED
    )
    return invitation_create(email=user.email, membership=membership), membership


def test_a_member_elsewhere_cannot_accept_an_invitation_to_this_org(world):
    policy_on(world.org)
    user = factories.UserFactory(email="jo@example.test")
    factories.MembershipFactory(org=world.other_org, user=user)
    invitation, membership = _invitation(world.org, user)
    with pytest.raises(InvitationError, match="Leave Other Co first"):
        invitation_accept(invitation=invitation, user=user)
    assert status_of(membership) == MemberStatus.INVITED


def test_a_member_of_this_org_cannot_join_another(world):
    policy_on(world.org)
    invitation, membership = _invitation(world.other_org, world.bob)
    with pytest.raises(InvitationError, match="a member of Alice Co"):
        invitation_accept(invitation=invitation, user=world.bob)
    assert status_of(membership) == MemberStatus.INVITED


def test_an_admin_of_this_org_may_join_another(world):
    policy_on(world.org)
    invitation, membership = _invitation(world.other_org, world.org_admin)
    invitation_accept(invitation=invitation, user=world.org_admin)
    assert status_of(membership) == MemberStatus.ACCEPTED


def test_an_admin_invited_here_may_keep_other_orgs(world):
    policy_on(world.org)
    user = factories.UserFactory(email="kim@example.test")
    factories.MembershipFactory(org=world.other_org, user=user)
    invitation, membership = _invitation(world.org, user, role=MemberRole.ADMIN)
    invitation_accept(invitation=invitation, user=user)
    assert status_of(membership) == MemberStatus.ACCEPTED


def test_confirming_or_restoring_a_member_elsewhere_is_refused(world):
    policy_on(world.org)
    actor = resolve(world.alice, world.org)
    accepted = factories.MembershipFactory(org=world.org, status=MemberStatus.ACCEPTED)
    factories.MembershipFactory(org=world.other_org, user=accepted.user)
    with pytest.raises(MemberError, match="belongs to Other Co"):
        member_confirm(actor=actor, membership=accepted)
    assert status_of(accepted) == MemberStatus.ACCEPTED

    revoked = factories.MembershipFactory(
        org=world.org, status=MemberStatus.REVOKED, prior_status=MemberStatus.CONFIRMED
    )
    elsewhere = factories.MembershipFactory(org=world.other_org, user=revoked.user)
    with pytest.raises(MemberError, match="belongs to Other Co"):
        member_restore(actor=actor, membership=revoked)
    elsewhere.delete()  # they left the other org
    member_restore(actor=actor, membership=revoked)
    assert status_of(revoked) == MemberStatus.CONFIRMED


def test_without_the_policy_members_join_freely(world):
    Policy.objects.create(org=world.org, type=KEY, enabled=False)
    invitation, membership = _invitation(world.other_org, world.bob)
    invitation_accept(invitation=invitation, user=world.bob)
    assert status_of(membership) == MemberStatus.ACCEPTED
