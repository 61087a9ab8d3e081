"""Editing a member (role, flags, groups, collection access), confirming, revoking,
restoring, removing, and leaving; the guards around owners and oneself."""

import pytest

from clients.models import (
    AccessLevel,
    CollectionMemberGrant,
    MemberRole,
    Membership,
    MemberStatus,
)
from clients.services.members import (
    LastOwnerError,
    MemberError,
    member_confirm,
    member_leave,
    member_remove,
    member_restore,
    member_revoke,
    member_update,
)
from portal.models import Event, EventType
from tests import factories

from .members_helpers import actor_for, add_member, member, page_messages, url

pytestmark = pytest.mark.django_db


def edit(client, org, membership, **data):
    return client.post(url("org_member_edit", org, membership.pk), data)


def bulk(client, org, action, *memberships, **extra):
    return client.post(
        url("org_members_bulk", org),
        {"action": action, "members": [m.pk for m in memberships], **extra},
        follow=True,
    )


# --- The edit page ------------------------------------------------------------------------


def test_edit_page_shows_the_current_access(world, login):
    group = factories.GroupFactory(org=world.org, name="Finance")
    bob = member(world, world.bob)
    group.members.add(bob)
    response = login(world.alice).get(url("org_member_edit", world.org, bob.pk))
    form = response.context["form"]
    assert form.initial["role"] == "user" and form.initial["groups"] == [group]
    assert form[f"collection_{world.collection.pk}"].value() == AccessLevel.VIEW
    assert response.context["can_edit"] and response.context["can_revoke"]


def test_edit_changes_role_flags_groups_and_collections_with_one_event(world, login):
    group = factories.GroupFactory(org=world.org, name="Finance")
    second = factories.CollectionFactory(org=world.org, name="Second")
    bob = member(world, world.bob)
    response = edit(
        login(world.org_admin),
        world.org,
        bob,
        role="custom",
        flags=["can_manage_collections"],
        groups=[group.pk],
        **{
            f"collection_{world.collection.pk}": "",  # "No access": the grant goes
            f"collection_{second.pk}": AccessLevel.MANAGE,
        },
    )
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.role == MemberRole.CUSTOM and bob.custom_flags == {"can_manage_collections"}
    assert list(bob.groups.all()) == [group]
    assert dict(bob.collection_grants.values_list("collection__name", "level")) == {
        "Second": "manage"
    }
    event = Event.objects.get(type=EventType.MEMBER_UPDATED)
    assert event.details == {
        "email": "bob@example.test",
        "changes": {
            "role": ["user", "custom"],
            "flags": [[], ["can_manage_collections"]],
            "groups": [[], ["Finance"]],
            "collections": [{"Shared": "view"}, {"Second": "manage"}],
        },
    }


def test_saving_without_changes_writes_no_event(world, login):
    bob = member(world, world.bob)
    edit(
        login(world.alice),
        world.org,
        bob,
        role="user",
        **{f"collection_{world.collection.pk}": "view"},
    )
    assert not Event.objects.filter(type=EventType.MEMBER_UPDATED).exists()


def test_another_orgs_member_id_is_404_and_nothing_changes(world, login):
    theirs = member(world, world.charlie, world.other_org)
    client = login(world.alice)
    assert client.get(url("org_member_edit", world.org, theirs.pk)).status_code == 404
    assert edit(client, world.org, theirs, role="user").status_code == 404
    assert client.get(url("org_member_edit", world.org, world.org.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == MemberRole.OWNER


def test_another_orgs_group_or_collection_in_the_edit_form_changes_nothing(world, login):
    bob = member(world, world.bob)
    their_group = factories.GroupFactory(org=world.other_org)
    client = login(world.alice)
    response = edit(client, world.org, bob, role="user", groups=[their_group.pk])
    assert "Choose groups of this organization only." in response.content.decode()
    response = edit(
        client, world.org, bob, role="user", **{f"collection_{world.other_collection.pk}": "view"}
    )
    assert "Choose collections of this organization only." in response.content.decode()
    assert not bob.groups.exists() and not world.other_collection.member_grants.exists()
    assert bob.collection_grants.get().collection == world.collection


def test_wrong_method_is_405(world, login):
    client = login(world.alice)
    bob = member(world, world.bob)
    assert client.put(url("org_member_edit", world.org, bob.pk)).status_code == 405
    assert client.get(url("org_members_bulk", world.org)).status_code == 405
    assert client.delete(url("org_leave", world.org)).status_code == 405


def test_nobody_edits_their_own_membership(world, login):
    alice = member(world, world.alice)
    response = edit(login(world.alice), world.org, alice, role="user")
    assert response.status_code == 200
    assert "You cannot change your own membership" in response.content.decode()
    alice.refresh_from_db()
    assert alice.role == MemberRole.OWNER
    with pytest.raises(MemberError, match="your own membership"):
        member_revoke(actor=actor_for(world.alice, world.org), membership=alice)


def test_admin_cannot_change_an_owner_and_sees_why(world, login):
    owner2 = add_member(world.org, "owner2@example.test", role=MemberRole.OWNER)
    client = login(world.org_admin)
    page = client.get(url("org_member_edit", world.org, owner2.pk))
    assert "only owners and provider staff manage owners" in page.content.decode()
    assert not page.context["can_edit"]
    response = edit(client, world.org, owner2, role="user")
    assert response.status_code == 200
    assert "only owners and provider staff manage owners" in response.content.decode()
    response = bulk(client, world.org, "revoke", owner2)
    assert "0 revoked; 1 skipped" in page_messages(response)[0]
    owner2.refresh_from_db()
    assert owner2.role == MemberRole.OWNER and owner2.status == MemberStatus.CONFIRMED


def test_user_manager_cannot_promote_or_give_flags_they_lack(world, login):
    bob = member(world, world.bob)
    client = login(world.custom)
    assert edit(client, world.org, bob, role="admin").status_code == 200
    response = edit(client, world.org, bob, role="custom", flags=["can_manage_policies"])
    assert "You can only give permissions you hold yourself" in response.content.decode()
    bob.refresh_from_db()
    assert bob.role == MemberRole.USER
    admin = member(world, world.org_admin)
    assert edit(client, world.org, admin, role="user").status_code == 200
    admin.refresh_from_db()
    assert admin.role == MemberRole.ADMIN


def test_owner_and_provider_staff_make_and_unmake_owners(world, login):
    bob = member(world, world.bob)
    assert edit(login(world.alice), world.org, bob, role="owner").status_code == 302
    bob.refresh_from_db()
    assert bob.role == MemberRole.OWNER
    assert edit(login(world.provider_admin), world.org, bob, role="admin").status_code == 302
    bob.refresh_from_db()
    assert bob.role == MemberRole.ADMIN
    event = Event.objects.filter(type=EventType.MEMBER_UPDATED).latest("id")
    assert event.acting_provider == world.provider
    assert event.details["changes"]["role"] == ["owner", "admin"]


# --- The last owner -----------------------------------------------------------------------


def test_the_last_confirmed_owner_cannot_be_demoted_revoked_or_removed(world, login):
    alice = member(world, world.alice)
    provider = actor_for(world.provider_admin, world.org)
    with pytest.raises(LastOwnerError, match="only confirmed owner"):
        member_update(actor=provider, membership=alice, role=MemberRole.ADMIN)
    with pytest.raises(LastOwnerError):
        member_revoke(actor=provider, membership=alice)
    with pytest.raises(LastOwnerError):
        member_remove(actor=provider, membership=alice)
    response = edit(login(world.provider_admin), world.org, alice, role="admin")
    assert "is the only confirmed owner" in response.content.decode()
    alice.refresh_from_db()
    assert alice.role == MemberRole.OWNER and alice.status == MemberStatus.CONFIRMED


def test_an_owner_can_go_once_another_confirmed_owner_remains(world):
    alice = member(world, world.alice)
    add_member(world.org, "owner2@example.test", role=MemberRole.OWNER)
    invited_owner = add_member(
        world.org, "owner3@example.test", role=MemberRole.OWNER, status=MemberStatus.INVITED
    )
    provider = actor_for(world.provider_admin, world.org)
    # An invited owner does not count as the owner who remains.
    member_revoke(actor=provider, membership=invited_owner)
    member_update(actor=provider, membership=alice, role=MemberRole.ADMIN)
    alice.refresh_from_db()
    assert alice.role == MemberRole.ADMIN


# --- Confirm, revoke, restore, remove -----------------------------------------------------


def test_confirming_a_member_who_has_not_accepted_is_refused(world, login):
    invited = add_member(world.org, "inv@example.test", status=MemberStatus.INVITED)
    response = bulk(login(world.alice), world.org, "confirm", invited)
    assert page_messages(response) == [
        "0 confirmed; 1 skipped: inv@example.test has not accepted the invitation yet "
        "(invited); only members who accepted can be confirmed."
    ]
    invited.refresh_from_db()
    assert invited.status == MemberStatus.INVITED
    with pytest.raises(MemberError, match="has not accepted"):
        member_confirm(actor=actor_for(world.alice, world.org), membership=invited)


def test_confirm_writes_its_event(world):
    accepted = add_member(world.org, "acc@example.test", status=MemberStatus.ACCEPTED)
    member_confirm(actor=actor_for(world.custom, world.org), membership=accepted)
    event = Event.objects.get(type=EventType.MEMBER_CONFIRMED)
    assert event.details == {
        "email": "acc@example.test",
        "changes": {"status": ["accepted", "confirmed"]},
    }


def test_revoke_ends_access_at_the_next_request_of_an_open_session(world, client):
    client.force_login(world.bob, backend="portal.auth_backend.AccountBackend")
    assert client.get(url("org_overview", world.org)).status_code == 302  # to his vault
    member_revoke(actor=actor_for(world.alice, world.org), membership=member(world, world.bob))
    assert client.get(url("org_overview", world.org)).status_code == 404  # same session


@pytest.mark.parametrize(
    "prior", [MemberStatus.INVITED, MemberStatus.ACCEPTED, MemberStatus.CONFIRMED]
)
def test_restore_returns_to_the_prior_status(world, prior):
    target = add_member(world.org, "t@example.test", status=prior)
    alice = actor_for(world.alice, world.org)
    member_revoke(actor=alice, membership=target)
    target.refresh_from_db()
    assert (target.status, target.prior_status) == (MemberStatus.REVOKED, prior)
    member_restore(actor=alice, membership=target)
    target.refresh_from_db()
    assert (target.status, target.prior_status) == (prior, "")
    types = list(Event.objects.order_by("id").values_list("type", "details__changes__status"))
    assert types == [
        (EventType.MEMBER_REVOKED, [prior, "revoked"]),
        (EventType.MEMBER_RESTORED, ["revoked", prior]),
    ]


def test_restore_needs_a_free_seat(world):
    target = add_member(world.org, "t@example.test", status=MemberStatus.REVOKED)
    target.prior_status = MemberStatus.CONFIRMED
    target.save()
    world.org.seats = 4  # the four world members use them all
    world.org.save()
    with pytest.raises(MemberError, match="uses all of its 4 seats"):
        member_restore(actor=actor_for(world.alice, world.org), membership=target)


def test_remove_deletes_the_membership_its_grants_and_group_links(world, login):
    bob = member(world, world.bob)
    group = factories.GroupFactory(org=world.org)
    group.members.add(bob)
    client = login(world.alice)
    page = bulk(client, world.org, "remove", bob)  # first the confirmation page
    assert b"Remove 1 member?" in page.content and Membership.objects.filter(pk=bob.pk).exists()
    response = bulk(client, world.org, "remove", bob, confirmed="1")
    assert page_messages(response) == ["1 removed."]
    assert not Membership.objects.filter(pk=bob.pk).exists()
    assert not CollectionMemberGrant.objects.filter(membership_id=bob.pk).exists()
    assert not group.members.exists()
    event = Event.objects.get(type=EventType.MEMBER_REMOVED)
    assert event.details["email"] == "bob@example.test" and event.object_id == str(bob.pk)
    assert client.get(url("org_overview", world.org)).status_code == 200  # alice unaffected


# --- Leaving ------------------------------------------------------------------------------


def test_a_member_leaves_from_the_overview(world, login):
    client = login(world.bob)
    # bob (a plain user) opens the org on his vault; the sidebar has the leave link.
    overview = client.get(url("org_overview", world.org), follow=True)
    assert url("org_leave", world.org).encode() in overview.content
    response = client.post(url("org_leave", world.org))
    assert response.status_code == 302
    assert not Membership.objects.filter(org=world.org, user=world.bob).exists()
    assert client.get(url("org_overview", world.org)).status_code == 404
    event = Event.objects.get(type=EventType.MEMBER_LEFT)
    assert event.actor == world.bob and event.details["email"] == "bob@example.test"


def test_provider_staff_see_no_leave_link(world, login):
    overview = login(world.provider_admin).get(url("org_overview", world.org))
    assert url("org_leave", world.org).encode() not in overview.content


def test_the_last_confirmed_owner_cannot_leave(world, login):
    response = login(world.alice).post(url("org_leave", world.org), follow=True)
    assert "You are the only confirmed owner" in page_messages(response)[0]
    assert Membership.objects.filter(org=world.org, user=world.alice).exists()
    add_member(world.org, "owner2@example.test", role=MemberRole.OWNER)
    member_leave(actor=actor_for(world.alice, world.org))
    assert not Membership.objects.filter(org=world.org, user=world.alice).exists()
