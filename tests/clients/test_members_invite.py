"""Inviting members: up to 20 at once, with a role, custom flags, groups and collection
access; all or nothing; never beyond the org's seats."""

import pytest
from django.core import mail

from clients.models import AccessLevel, CollectionMemberGrant, MemberRole, Membership, MemberStatus
from clients.services.members import MemberError, member_invite
from portal.models import Event, EventType, Invitation
from tests import factories
from tests.providers.helpers import open_invitation

from .members_helpers import actor_for, add_member, member, page_messages, url

pytestmark = pytest.mark.django_db

PASSWORD = {"password1": "a long new passphrase", "password2": "a long new passphrase"}


def invite(client, org, **data):
    return client.post(url("org_members_invite", org), {"role": "user", **data})


def test_invite_with_role_flags_groups_and_collections(
    world, login, django_capture_on_commit_callbacks
):
    group = factories.GroupFactory(org=world.org, name="Finance")
    client = login(world.org_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(
            client,
            world.org,
            emails="ann@new.test, ben@new.test\ncid@new.test",
            role="custom",
            flags=["can_manage_groups", "can_access_event_logs"],
            groups=[group.pk],
            **{f"collection_{world.collection.pk}": AccessLevel.EDIT_EXCEPT_PASSWORDS},
        )
    assert response.status_code == 302
    assert "Invitations sent to 3 people" in page_messages(client.get(response["Location"]))[0]
    invited = Membership.objects.filter(org=world.org, email__endswith="@new.test")
    assert invited.count() == 3
    for membership in invited:
        assert membership.status == MemberStatus.INVITED and membership.user is None
        assert membership.role == MemberRole.CUSTOM
        assert membership.custom_flags == {"can_manage_groups", "can_access_event_logs"}
        assert list(membership.groups.all()) == [group]
        grant = CollectionMemberGrant.objects.get(membership=membership)
        assert (grant.collection, grant.level) == (world.collection, "edit_except_passwords")
    assert sorted(message.to[0] for message in mail.outbox) == [
        "ann@new.test",
        "ben@new.test",
        "cid@new.test",
    ]
    event = Event.objects.get(type=EventType.MEMBER_INVITED, object_id=str(invited[0].pk))
    assert event.org == world.org and event.actor == world.org_admin
    assert event.details["email"] == invited[0].email and event.details["role"] == "custom"
    assert event.details["groups"] == ["Finance"]


def test_invitation_email_waits_for_the_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        member_invite(actor=actor_for(world.alice, world.org), emails=["ann@new.test"], role="user")
    assert len(callbacks) == 1 and not mail.outbox


def test_flags_are_dropped_for_roles_other_than_custom(world, login):
    invite(login(world.alice), world.org, emails="ann@new.test", flags=["can_manage_users"])
    assert Membership.objects.get(email="ann@new.test").custom_flags == frozenset()


def test_new_account_accepts_and_is_confirmed_then_reaches_the_org(
    world, login, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(login(world.alice), world.org, emails="ann@new.test")
    client.logout()
    client.post(open_invitation(client), PASSWORD)
    ann = Membership.objects.get(email="ann@new.test")
    assert ann.status == MemberStatus.ACCEPTED and ann.user is not None
    # Accepted is not confirmed: the org is still closed to them.
    assert client.get(url("org_overview", world.org)).status_code == 404
    admin = login(world.org_admin)
    admin.post(url("org_members_bulk", world.org), {"action": "confirm", "members": [ann.pk]})
    ann.refresh_from_db()
    assert ann.status == MemberStatus.CONFIRMED
    # A plain user: the org opens on their vault.
    assert login(ann.user).get(url("org_overview", world.org)).status_code == 302


@pytest.mark.parametrize(
    "status",
    [MemberStatus.INVITED, MemberStatus.ACCEPTED, MemberStatus.CONFIRMED, MemberStatus.REVOKED],
)
def test_inviting_an_existing_member_in_any_status_writes_nothing(world, login, status):
    add_member(world.org, "old@example.test", status=status)
    before = Membership.objects.count(), Invitation.objects.count(), Event.objects.count()
    response = invite(login(world.alice), world.org, emails="fresh@new.test, OLD@example.test")
    assert response.status_code == 200
    assert "Already a member of Alice Co (in any status): old@example.test" in (
        response.content.decode()
    )
    assert (Membership.objects.count(), Invitation.objects.count(), Event.objects.count()) == (
        before
    )
    assert b"fresh@new.test, OLD@example.test" in response.content  # kept as typed


def test_a_21st_email_is_a_form_error(world, login):
    emails = ", ".join(f"p{n}@new.test" for n in range(21))
    world.org.seats = 100
    world.org.save()
    response = invite(login(world.alice), world.org, emails=emails)
    assert response.status_code == 200
    assert "You entered 21 addresses; invite at most 20 at once." in response.content.decode()
    assert not Membership.objects.filter(email__endswith="@new.test").exists()


def test_twenty_at_once_is_fine(world, login):
    world.org.seats = 100
    world.org.save()
    emails = "\n".join(f"p{n}@new.test" for n in range(20))
    assert invite(login(world.alice), world.org, emails=emails).status_code == 302
    assert Membership.objects.filter(email__endswith="@new.test").count() == 20


def test_invitations_beyond_the_seats_are_refused_with_the_seat_count(world, login):
    # World's org: 4 members of 10 seats; a revoked member takes no seat.
    add_member(world.org, "gone@example.test", status=MemberStatus.REVOKED)
    emails = ", ".join(f"p{n}@new.test" for n in range(7))
    response = invite(login(world.alice), world.org, emails=emails)
    assert response.status_code == 200
    assert (
        "Alice Co has 10 seats and 4 are in use (invited, accepted and confirmed members), "
        "so 6 are free; you tried to invite 7."
    ) in response.content.decode()
    assert not Membership.objects.filter(email__endswith="@new.test").exists()
    six = ", ".join(f"p{n}@new.test" for n in range(6))
    assert invite(login(world.alice), world.org, emails=six).status_code == 302


def test_other_orgs_groups_and_collections_are_form_errors(world, login):
    their_group = factories.GroupFactory(org=world.other_org)
    client = login(world.alice)
    response = invite(client, world.org, emails="ann@new.test", groups=[their_group.pk])
    assert "Choose groups of this organization only." in response.content.decode()
    response = invite(
        client,
        world.org,
        emails="ann@new.test",
        **{f"collection_{world.other_collection.pk}": AccessLevel.MANAGE},
    )
    assert "Choose collections of this organization only." in response.content.decode()
    assert not Membership.objects.filter(email="ann@new.test").exists()
    assert not world.other_collection.member_grants.exists()


def test_a_level_outside_the_five_is_a_form_error(world, login):
    response = invite(
        login(world.alice),
        world.org,
        emails="ann@new.test",
        **{f"collection_{world.collection.pk}": "owner"},
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(email="ann@new.test").exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"role": "owner"}, "You cannot give that role."),
        ({"role": "admin"}, "You cannot give that role."),
        (
            {"role": "custom", "flags": ["can_manage_users", "can_manage_groups"]},
            "You can only give permissions you hold yourself",
        ),
    ],
)
def test_user_manager_cannot_grant_more_than_they_hold(world, login, data, message):
    response = invite(login(world.custom), world.org, emails="ann@new.test", **data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Membership.objects.filter(email="ann@new.test").exists()


def test_user_manager_invites_a_custom_role_with_their_own_flag(world, login):
    data = {"role": "custom", "flags": ["can_manage_users"]}
    assert invite(login(world.custom), world.org, emails="ann@new.test", **data).status_code == 302
    assert Membership.objects.get(email="ann@new.test").custom_flags == {"can_manage_users"}


def test_admin_cannot_invite_an_owner_but_owner_and_provider_can(world, login):
    assert (
        invite(login(world.org_admin), world.org, emails="a@new.test", role="owner").status_code
        == 200
    )
    assert (
        invite(login(world.alice), world.org, emails="b@new.test", role="owner").status_code == 302
    )
    provider = login(world.provider_admin)
    assert invite(provider, world.org, emails="c@new.test", role="owner").status_code == 302
    assert sorted(
        Membership.objects.filter(role="owner", email__endswith="@new.test").values_list(
            "email", flat=True
        )
    ) == ["b@new.test", "c@new.test"]
    event = Event.objects.get(type=EventType.MEMBER_INVITED, details__email="c@new.test")
    assert event.acting_provider == world.provider


def test_service_refuses_what_the_form_would_not_offer(world):
    custom = actor_for(world.custom, world.org)
    with pytest.raises(MemberError, match="Only owners and provider staff"):
        member_invite(actor=custom, emails=["a@new.test"], role="owner")
    with pytest.raises(MemberError, match="you do not hold: can_manage_policies"):
        member_invite(
            actor=custom, emails=["a@new.test"], role="custom", flags=["can_manage_policies"]
        )
    with pytest.raises(MemberError, match="of this organization only"):
        member_invite(
            actor=custom,
            emails=["a@new.test"],
            role="user",
            collection_levels={world.other_collection: AccessLevel.VIEW},
        )
    with pytest.raises(MemberError, match="at most 20"):
        member_invite(actor=custom, emails=[f"p{n}@new.test" for n in range(21)], role="user")
    assert not Membership.objects.filter(email__endswith="@new.test").exists()
    assert member(world, world.bob)  # the world is intact


def test_user_manager_cannot_hand_out_collection_access_they_do_not_manage(world, login):
    """Else a user manager could invite a second account of their own with "can manage"
    on every collection and read the vault through it."""
    response = invite(
        login(world.custom),
        world.org,
        emails="sock@new.test",
        **{f"collection_{world.collection.pk}": AccessLevel.MANAGE},
    )
    assert response.status_code == 200
    assert "You can only give access you manage" in response.content.decode()
    assert not Membership.objects.filter(email="sock@new.test").exists()


def test_user_manager_cannot_put_people_in_groups(world, login):
    group = factories.GroupFactory(org=world.org, name="Everything")
    factories.CollectionGroupGrantFactory(
        collection=world.collection, group=group, level=AccessLevel.MANAGE
    )
    response = invite(login(world.custom), world.org, emails="sock@new.test", groups=[group.pk])
    assert "You can only give access you manage" in response.content.decode()
    assert not Membership.objects.filter(email="sock@new.test").exists()


def test_an_edit_by_a_user_manager_keeps_access_they_do_not_manage(world):
    from clients.services.members import member_update

    group = factories.GroupFactory(org=world.org, name="Finance")
    bob = Membership.objects.get(org=world.org, user=world.bob)
    group.members.add(bob)
    member_update(
        actor=actor_for(world.custom, world.org),
        membership=bob,
        role=MemberRole.USER,
        groups=[],
        collection_levels={world.collection: AccessLevel.MANAGE},
    )
    assert list(bob.groups.all()) == [group]  # kept
    assert bob.collection_grants.get().level == AccessLevel.VIEW  # kept, not raised to manage
