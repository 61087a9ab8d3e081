"""Collections: the access tab, who may manage which collection, access through groups."""

from __future__ import annotations

import pytest

from clients.models import (
    AccessLevel,
    CollectionGroupGrant,
    CollectionMemberGrant,
    MemberStatus,
)
from portal.access import collection_management, resolve
from portal.models import EventType
from tests import factories
from tests.vault.conftest import access_for, give_keys, make_item

from .collections_helpers import count_queries, custom_member, last_event, manager_of, org_url

pytestmark = pytest.mark.django_db

L = AccessLevel


def access_url(world, collection=None):
    return org_url("org_collection_access", world.org, collection_id=collection or world.collection)


def grant_levels(collection) -> dict[str, str]:
    members = {
        g.membership.email: g.level
        for g in CollectionMemberGrant.objects.filter(collection=collection).select_related(
            "membership"
        )
    }
    groups = {
        f"group:{g.group.name}": g.level
        for g in CollectionGroupGrant.objects.filter(collection=collection).select_related("group")
    }
    return {**members, **groups}


@pytest.fixture
def team(world):
    """A group "Team" with dora in it, and a grant of the group on the shared collection."""
    world.dora = factories.UserFactory(email="dora@example.test")
    world.dora_membership = factories.MembershipFactory(org=world.org, user=world.dora)
    world.team = factories.GroupFactory(org=world.org, name="Team")
    world.team.members.add(world.dora_membership)
    factories.CollectionGroupGrantFactory(
        collection=world.collection, group=world.team, level=L.EDIT
    )
    return world


def bob_membership(world):
    return world.org.memberships.get(user=world.bob)


# --- the access tab ----------------------------------------------------------


def test_access_tab_lists_members_and_groups_with_their_level(team, login):
    response = login(team.alice).get(access_url(team))
    content = response.content.decode()
    assert "bob@example.test" in content and "Team" in content
    bob_field = f'name="member-{bob_membership(team).pk}"'
    assert bob_field in content
    select = content.split(bob_field)[1].split("</select>")[0]
    assert 'value="view" selected' in select
    assert 'value="">No access' in select
    assert f'<label for="id_member-{bob_membership(team).pk}"' in content


def test_one_form_changes_adds_and_removes_access(team, login):
    erin = factories.MembershipFactory(
        org=team.org, user=None, email="erin@example.test", status=MemberStatus.INVITED
    )
    ops = factories.GroupFactory(org=team.org, name="Ops")
    data = {
        f"member-{bob_membership(team).pk}": L.MANAGE,  # changed
        f"group-{team.team.pk}": "",  # removed
        "add_member_email": "ERIN@example.test",
        "add_level": L.VIEW_EXCEPT_PASSWORDS,
    }
    response = login(team.alice).post(access_url(team), data)
    assert response.status_code == 302
    assert grant_levels(team.collection) == {
        "bob@example.test": L.MANAGE,
        "erin@example.test": L.VIEW_EXCEPT_PASSWORDS,
    }
    assert erin.collection_grants.exists()
    event = last_event(team.org, EventType.COLLECTION_UPDATED)
    assert event.details == {
        "name": "Shared",
        "access": {
            "added": [["erin@example.test", L.VIEW_EXCEPT_PASSWORDS]],
            "removed": [["Team", L.EDIT]],
            "changed": [["bob@example.test", L.VIEW, L.MANAGE]],
        },
    }
    # And a group by name.
    login(team.alice).post(access_url(team), {"add_group_name": "ops", "add_level": L.EDIT})
    assert CollectionGroupGrant.objects.get(collection=team.collection, group=ops).level == L.EDIT


def test_rows_not_posted_stay_as_they_are(team, login):
    login(team.alice).post(access_url(team), {f"member-{bob_membership(team).pk}": L.EDIT})
    assert grant_levels(team.collection) == {"bob@example.test": L.EDIT, "group:Team": L.EDIT}


@pytest.mark.parametrize(
    "bad",
    [
        {"level": "owner"},  # a level that does not exist
        {"member": "other_org"},  # another org's member
        {"group": "other_org"},
        {"add_member_email": "charlie@example.test", "add_level": "view"},
        {"add_member_email": "nobody@example.test", "add_level": "view"},
        {"add_group_name": "Their Group", "add_level": "view"},
        {"add_member_email": "dora@example.test"},  # no level
        {"revoked": True},
    ],
)
def test_bad_input_is_a_form_error_and_changes_nothing(team, login, bad):
    their_group = factories.GroupFactory(org=team.other_org, name="Their Group")
    charlie_membership = team.other_org.memberships.get(user=team.charlie)
    factories.MembershipFactory(
        org=team.org, user=None, email="revoked@example.test", status=MemberStatus.REVOKED
    )
    data = {f"member-{bob_membership(team).pk}": L.MANAGE}  # a valid change alongside
    if "level" in bad:
        data[f"group-{team.team.pk}"] = bad["level"]
    elif "member" in bad:
        data[f"member-{charlie_membership.pk}"] = L.VIEW
    elif "group" in bad:
        data[f"group-{their_group.pk}"] = L.VIEW
    elif "revoked" in bad:
        data.update(add_member_email="revoked@example.test", add_level=L.VIEW)
    else:
        data.update(bad)
    before = grant_levels(team.collection)
    response = login(team.alice).post(access_url(team), data)
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert grant_levels(team.collection) == before
    assert (
        not CollectionMemberGrant.objects.filter(membership=charlie_membership)
        .exclude(collection=team.other_collection)
        .exists()
    )
    assert not team.org.events.filter(type=EventType.COLLECTION_UPDATED).exists()


def test_access_tab_paginates_and_keeps_one_form(team, login):
    for n in range(120):
        factories.CollectionMemberGrantFactory(
            collection=team.collection,
            membership=factories.MembershipFactory(
                org=team.org, user=None, email=f"m{n:03d}@x.test"
            ),
        )
    client = login(team.alice)
    first = client.get(access_url(team)).content.decode()
    assert first.split("<main")[1].count('<form method="post"') == 1
    assert "Page 1 of 2" in first
    second = client.get(access_url(team), {"page": 2}).content.decode()
    assert "m119@x.test" in second and "m000@x.test" not in second


@pytest.mark.parametrize("who", ["alice", "provider_admin"])
def test_access_tab_queries_do_not_grow_with_grants(team, login, who):
    def add(count):
        for _ in range(count):
            factories.CollectionMemberGrantFactory(collection=team.collection)
            factories.CollectionGroupGrantFactory(collection=team.collection)

    client = login(getattr(team, who))
    url = access_url(team)
    client.get(url)  # a provider's first entry of the session is logged once
    add(5)
    small = count_queries(client, url)
    add(45)
    assert count_queries(client, url) == small


# --- access through groups reaches the vault --------------------------------


def test_a_group_grant_made_on_the_tab_opens_the_collection_in_the_vault(team, login):
    give_keys(team.org)
    other = factories.CollectionFactory(org=team.org, name="Other")
    item = make_item(team.alice, team.org, [other])
    vault = login(team.dora).get(org_url("vault_item_list", team.org))
    assert b"Bank login" not in vault.content

    login(team.alice).post(access_url(team, other), {"add_group_name": "Team", "add_level": L.VIEW})
    access = access_for(team.dora, team.org)
    assert access.level_for([other.pk]) == L.VIEW
    vault = login(team.dora).get(org_url("vault_item_list", team.org))
    assert b"Bank login" in vault.content
    assert str(item.pk).encode() in vault.content


# --- who manages which collection ------------------------------------------

ALL = "all"


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("alice", ALL),
        ("org_admin", ALL),
        ("provider_admin", ALL),
        ("service_user", ALL),
        ("custom_collections", ALL),
        ("bob", 403),  # "can view" is not "can manage"
        ("custom", 403),  # manage users only
        ("custom_groups", 403),
        ("manager", "one"),
        ("group_manager", "one"),
        ("service_user_in_scope", ALL),  # limited to a list of clients that has this one
        ("service_user_out_of_scope", 404),
        ("other_provider_admin", 404),
        ("charlie", 404),
    ],
)
def test_role_matrix_for_the_collection_pages(world, login, who, expected):
    other = factories.CollectionFactory(org=world.org, name="Other")
    users = {
        "custom_collections": lambda: custom_member(
            world.org, "cc@example.test", can_manage_collections=True
        )[0],
        "custom_groups": lambda: custom_member(
            world.org, "cg@example.test", can_manage_groups=True
        )[0],
        "manager": lambda: manager_of(world.collection)[0],
        "group_manager": lambda: manager_of(world.collection, "gm@example.test", via_group=True)[0],
    }
    if who.startswith("service_user_"):
        row = world.service_user.provider_users.get()
        row.access_all_clients = False
        row.save()
        if who == "service_user_in_scope":
            row.client_scope.add(world.org)
        user = world.service_user
    else:
        user = users[who]() if who in users else getattr(world, who)
    client = login(user)
    pages = {
        "list": org_url("org_collections", world.org),
        "new": org_url("org_collection_new", world.org),
        "edit": org_url("org_collection_edit", world.org, collection_id=world.collection),
        "access": access_url(world),
        "delete": org_url("org_collection_delete", world.org, collection_id=world.collection),
        "other_edit": org_url("org_collection_edit", world.org, collection_id=other),
        "other_access": access_url(world, other),
    }
    got = {name: client.get(url).status_code for name, url in pages.items()}
    if expected == ALL:
        assert set(got.values()) == {200}
    elif expected == "one":
        assert got == {
            "list": 200,
            "new": 403,
            "edit": 200,
            "access": 200,
            "delete": 403,
            "other_edit": 403,
            "other_access": 403,
        }
    else:
        assert set(got.values()) == {expected}


def test_can_manage_member_sees_only_their_collections_and_the_sidebar_link(world, login):
    factories.CollectionFactory(org=world.org, name="Other")
    manny, _ = manager_of(world.collection)
    client = login(manny)
    # The sidebar of any org page (the vault's here) links to the collections page.
    vault = client.get(org_url("vault_item_list", world.org)).content.decode()
    assert org_url("org_collections", world.org) in vault
    content = client.get(org_url("org_collections", world.org)).content.decode()
    assert 'title="Shared"' in content and 'title="Other"' not in content
    assert org_url("org_collection_new", world.org) not in content
    assert (
        org_url("org_collection_delete", world.org, collection_id=world.collection) not in content
    )
    # bob only "can view": no link.
    bob_vault = login(world.bob).get(org_url("vault_item_list", world.org))
    assert bob_vault.status_code == 200
    assert org_url("org_collections", world.org).encode() not in bob_vault.content


def test_can_manage_member_renames_and_shares_their_collection(world, login):
    manny, _ = manager_of(world.collection)
    client = login(manny)
    client.post(
        org_url("org_collection_edit", world.org, collection_id=world.collection), {"name": "Ours"}
    )
    world.collection.refresh_from_db()
    assert world.collection.name == "Ours"
    client.post(access_url(world), {"add_member_email": "admin@example.test", "add_level": "edit"})
    assert grant_levels(world.collection)["admin@example.test"] == L.EDIT


def test_can_manage_member_cannot_touch_another_collection(world, login):
    other = factories.CollectionFactory(org=world.org, name="Other")
    manny, membership = manager_of(world.collection)
    client = login(manny)
    response = client.post(
        access_url(world, other), {"add_member_email": manny.email, "add_level": L.MANAGE}
    )
    assert response.status_code == 403
    response = client.post(
        org_url("org_collection_edit", world.org, collection_id=other), {"name": "Mine"}
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.name == "Other" and not other.member_grants.exists()
    assert client.post(org_url("org_collection_new", world.org), {"name": "X"}).status_code == 403
    assert not world.org.collections.filter(name="X").exists()


def test_management_is_decided_by_the_permission_layer(world):
    other = factories.CollectionFactory(org=world.org, name="Other")
    manny, _ = manager_of(world.collection)
    management = collection_management(resolve(manny, world.org))
    assert management.may_manage(world.collection.pk)
    assert not management.may_manage(other.pk)
    assert not management.may_create and not management.may_delete(world.collection)
    # Provider staff manage everything through the capability, with no level of their own.
    provider = collection_management(resolve(world.provider_admin, world.org))
    assert provider.manages_all and provider.may_manage(other.pk)
    # bob "can view": manages nothing.
    assert not collection_management(resolve(world.bob, world.org)).manages_any


def test_losing_manage_takes_the_collection_away(world, login):
    manny, membership = manager_of(world.collection)
    CollectionMemberGrant.objects.filter(membership=membership).update(level=L.EDIT)
    assert login(manny).get(access_url(world)).status_code == 403
