"""Groups: the list, create, rename, delete, members and collection access."""

from __future__ import annotations

import pytest

from clients.models import AccessLevel, CollectionGroupGrant, Group, MemberStatus
from portal.models import EventType
from tests import factories

from .collections_helpers import count_queries, custom_member, last_event, manager_of, org_url

pytestmark = pytest.mark.django_db

L = AccessLevel


@pytest.fixture
def team(world):
    world.team = factories.GroupFactory(org=world.org, name="Team")
    world.bob_membership = world.org.memberships.get(user=world.bob)
    world.team.members.add(world.bob_membership)
    return world


def group_url(name, world, group=None):
    return org_url(name, world.org, group_id=group or world.team)


def emails(group) -> set[str]:
    return set(group.members.values_list("email", flat=True))


# --- the list ----------------------------------------------------------------


def test_list_has_links_and_only_this_orgs_groups(team, login):
    factories.GroupFactory(org=team.other_org, name="Their Group")
    content = login(team.alice).get(org_url("org_groups", team.org)).content.decode()
    assert "Team" in content and "Their Group" not in content
    assert org_url("org_group_new", team.org) in content
    for name in ["org_group_edit", "org_group_delete", "org_group_members"]:
        assert group_url(name, team) in content


@pytest.mark.parametrize("who", ["alice", "service_user"])
def test_list_queries_do_not_grow_with_groups(world, login, who):
    def add(count):
        for _ in range(count):
            group = factories.GroupFactory(org=world.org)
            group.members.add(factories.MembershipFactory(org=world.org))
            factories.CollectionGroupGrantFactory(collection=world.collection, group=group)

    client = login(getattr(world, who))
    url = org_url("org_groups", world.org)
    client.get(url)
    add(5)
    small = count_queries(client, url)
    add(45)
    assert count_queries(client, url) == small


# --- create, rename, delete -------------------------------------------------


def test_create_group(world, login):
    response = login(world.alice).post(org_url("org_group_new", world.org), {"name": "  Ops  "})
    group = world.org.groups.get(name="Ops")
    assert response["Location"] == org_url("org_group_members", world.org, group_id=group)
    event = last_event(world.org, EventType.GROUP_CREATED)
    assert event.details == {"name": "Ops"} and event.object_id == str(group.pk)


@pytest.mark.parametrize("name", ["Team", "team", " "])
def test_duplicate_or_empty_name_is_a_form_error(team, login, name):
    response = login(team.alice).post(org_url("org_group_new", team.org), {"name": name})
    assert response.status_code == 200 and b'role="alert"' in response.content
    assert Group.objects.filter(org=team.org).count() == 1


def test_rename_group(team, login):
    login(team.alice).post(group_url("org_group_edit", team), {"name": "Crew"})
    team.team.refresh_from_db()
    assert team.team.name == "Crew"
    event = last_event(team.org, EventType.GROUP_UPDATED)
    assert event.details == {"name": "Crew", "changes": {"name": ["Team", "Crew"]}}


def test_rename_to_a_taken_name_keeps_the_input(team, login):
    factories.GroupFactory(org=team.org, name="Ops")
    response = login(team.alice).post(group_url("org_group_edit", team), {"name": "OPS"})
    assert b"already exists" in response.content and b'value="OPS"' in response.content
    team.team.refresh_from_db()
    assert team.team.name == "Team"


def test_delete_group(team, login):
    factories.CollectionGroupGrantFactory(collection=team.collection, group=team.team)
    client = login(team.alice)
    assert b"1 member loses" in client.get(group_url("org_group_delete", team)).content
    response = client.post(group_url("org_group_delete", team))
    assert response.status_code == 302
    assert not Group.objects.filter(pk=team.team.pk).exists()
    assert not CollectionGroupGrant.objects.filter(collection=team.collection).exists()
    assert team.org.memberships.filter(user=team.bob).exists()  # members stay
    event = last_event(team.org, EventType.GROUP_DELETED)
    assert event.details == {"name": "Team", "members": 1}


def test_another_orgs_group_under_this_orgs_url_is_404(team, login):
    theirs = factories.GroupFactory(org=team.other_org, name="Theirs")
    client = login(team.alice)
    for name in [
        "org_group_edit",
        "org_group_members",
        "org_group_collections",
        "org_group_delete",
    ]:
        url = group_url(name, team, theirs)
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "Mine"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_wrong_method_is_405(team, login):
    assert login(team.alice).delete(group_url("org_group_delete", team)).status_code == 405


# --- members -----------------------------------------------------------------


def test_add_members_by_email_and_remove_ticked(team, login):
    factories.MembershipFactory(
        org=team.org, user=None, email="ivy@example.test", status=MemberStatus.INVITED
    )
    factories.MembershipFactory(
        org=team.org, user=None, email="acc@example.test", status=MemberStatus.ACCEPTED
    )
    data = {
        "add_emails": "IVY@example.test, acc@example.test\nadmin@example.test",
        "remove": [str(team.bob_membership.pk)],
    }
    response = login(team.alice).post(group_url("org_group_members", team), data)
    assert response.status_code == 302
    assert emails(team.team) == {"ivy@example.test", "acc@example.test", "admin@example.test"}
    event = last_event(team.org, EventType.GROUP_UPDATED)
    assert event.details == {
        "name": "Team",
        "members": {
            "added": ["acc@example.test", "admin@example.test", "ivy@example.test"],
            "removed": ["bob@example.test"],
        },
    }


@pytest.mark.parametrize(
    "data",
    [
        {"add_emails": "charlie@example.test"},  # another org's member
        {"add_emails": "nobody@example.test"},
        {"add_emails": "revoked@example.test"},
        {"add_emails": "not an email"},
        {"remove": "other_org"},  # another org's membership id
        {"remove": "not_in_group"},
    ],
)
def test_bad_members_input_changes_nothing(team, login, data):
    factories.MembershipFactory(
        org=team.org, user=None, email="revoked@example.test", status=MemberStatus.REVOKED
    )
    data = dict(data)
    if data.get("remove") == "other_org":
        data["remove"] = [str(team.other_org.memberships.get().pk)]
    elif data.get("remove") == "not_in_group":
        data["remove"] = [str(team.org.memberships.get(user=team.alice).pk)]
    data.setdefault("add_emails", "admin@example.test")  # a valid part alongside
    if "charlie" in data["add_emails"] or "nobody" in data["add_emails"]:
        data["add_emails"] += ", admin@example.test"
    response = login(team.alice).post(group_url("org_group_members", team), data)
    assert response.status_code == 200 and b'role="alert"' in response.content
    assert emails(team.team) == {"bob@example.test"}
    assert not team.org.events.filter(type=EventType.GROUP_UPDATED).exists()


def test_members_tab_searches_and_paginates(team, login):
    for n in range(60):
        team.team.members.add(
            factories.MembershipFactory(org=team.org, user=None, email=f"m{n:02d}@x.test")
        )
    client = login(team.alice)
    url = group_url("org_group_members", team)
    assert b"Page 1 of 2" in client.get(url).content
    found = client.get(url, {"q": "m59"}).content
    assert b"m59@x.test" in found and b"m58@x.test" not in found
    assert b"<legend>" in found


def test_members_tab_queries_do_not_grow(team, login):
    def add(count):
        for _ in range(count):
            team.team.members.add(factories.MembershipFactory(org=team.org))

    client = login(team.alice)
    url = group_url("org_group_members", team)
    add(5)
    small = count_queries(client, url)
    add(45)
    assert count_queries(client, url) == small


def test_a_group_manager_cannot_add_themselves(team, login):
    """Joining a group would hand them its collections: only those who manage all may."""
    user, membership = custom_member(team.org, "gm@example.test", can_manage_groups=True)
    factories.CollectionGroupGrantFactory(
        collection=team.collection, group=team.team, level=L.MANAGE
    )
    response = login(user).post(
        group_url("org_group_members", team), {"add_emails": "gm@example.test"}
    )
    assert b"cannot add yourself" in response.content
    assert "gm@example.test" not in emails(team.team)
    # Others they may add; an owner may add themselves.
    login(user).post(group_url("org_group_members", team), {"add_emails": "admin@example.test"})
    assert "admin@example.test" in emails(team.team)
    login(team.alice).post(
        group_url("org_group_members", team), {"add_emails": "alice@example.test"}
    )
    assert "alice@example.test" in emails(team.team)


# --- collections ---------------------------------------------------------------


def test_collections_tab_adds_changes_and_removes(team, login):
    finance = factories.CollectionFactory(org=team.org, name="Finance")
    ops = factories.CollectionFactory(org=team.org, name="Ops")
    factories.CollectionGroupGrantFactory(collection=team.collection, group=team.team, level=L.VIEW)
    factories.CollectionGroupGrantFactory(collection=ops, group=team.team, level=L.EDIT)
    data = {
        f"collection-{team.collection.pk}": L.MANAGE,
        f"collection-{ops.pk}": "",
        "add_collection": str(finance.pk),
        "add_level": L.EDIT_EXCEPT_PASSWORDS,
    }
    response = login(team.alice).post(group_url("org_group_collections", team), data)
    assert response.status_code == 302
    levels = dict(team.team.collection_grants.values_list("collection__name", "level"))
    assert levels == {"Shared": L.MANAGE, "Finance": L.EDIT_EXCEPT_PASSWORDS}
    event = last_event(team.org, EventType.GROUP_UPDATED)
    assert event.details == {
        "name": "Team",
        "access": {
            "added": [["Finance", L.EDIT_EXCEPT_PASSWORDS]],
            "removed": [["Ops", L.EDIT]],
            "changed": [["Shared", L.VIEW, L.MANAGE]],
        },
    }


def test_collections_tab_lists_with_labelled_selects(team, login):
    factories.CollectionGroupGrantFactory(collection=team.collection, group=team.team, level=L.VIEW)
    content = login(team.alice).get(group_url("org_group_collections", team)).content.decode()
    field = f"collection-{team.collection.pk}"
    assert f'<label for="id_{field}"' in content
    assert 'value="view" selected' in content.split(f'name="{field}"')[1].split("</select>")[0]
    assert "Theirs" not in content


@pytest.mark.parametrize("bad", ["level", "other_org", "add_other_org", "add_no_level"])
def test_bad_collections_input_changes_nothing(team, login, bad):
    factories.CollectionGroupGrantFactory(collection=team.collection, group=team.team, level=L.VIEW)
    data = {
        "level": {f"collection-{team.collection.pk}": "superuser"},
        "other_org": {f"collection-{team.other_collection.pk}": L.VIEW},
        "add_other_org": {"add_collection": str(team.other_collection.pk), "add_level": L.VIEW},
        "add_no_level": {"add_collection": str(team.collection.pk)},
    }[bad]
    response = login(team.alice).post(group_url("org_group_collections", team), data)
    assert response.status_code == 200 and b'role="alert"' in response.content
    assert dict(team.team.collection_grants.values_list("collection_id", "level")) == {
        team.collection.pk: L.VIEW
    }
    assert not team.org.events.filter(type=EventType.GROUP_UPDATED).exists()


def test_group_manager_grants_only_collections_they_manage(team, login):
    other = factories.CollectionFactory(org=team.org, name="Other")
    user, membership = custom_member(team.org, "gm@example.test", can_manage_groups=True)
    factories.CollectionMemberGrantFactory(
        collection=team.collection, membership=membership, level=L.MANAGE
    )
    client = login(user)
    page = client.get(group_url("org_group_collections", team)).content.decode()
    options = page.split('name="add_collection"')[1].split("</select>")[0]
    assert "Shared" in options and "Other" not in options
    response = client.post(
        group_url("org_group_collections", team), {f"collection-{other.pk}": L.MANAGE}
    )
    assert response.status_code == 200 and b"collections you manage" in response.content
    assert not team.team.collection_grants.exists()
    client.post(
        group_url("org_group_collections", team),
        {"add_collection": str(team.collection.pk), "add_level": L.EDIT},
    )
    assert team.team.collection_grants.get().collection == team.collection


def test_group_manager_without_collections_sees_them_read_only(team, login):
    factories.CollectionGroupGrantFactory(collection=team.collection, group=team.team, level=L.VIEW)
    user, _ = custom_member(team.org, "gm@example.test", can_manage_groups=True)
    content = login(user).get(group_url("org_group_collections", team)).content.decode()
    assert "Can view" in content and "you do not manage this collection" in content
    assert f'name="collection-{team.collection.pk}"' not in content


def test_collections_tab_queries_do_not_grow(team, login):
    def add(count):
        for _ in range(count):
            factories.CollectionGroupGrantFactory(
                collection=factories.CollectionFactory(org=team.org), group=team.team
            )

    client = login(team.alice)
    url = group_url("org_group_collections", team)
    add(5)
    small = count_queries(client, url)
    add(45)
    assert count_queries(client, url) == small


# --- who may use the group pages ---------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("alice", 200),
        ("org_admin", 200),
        ("provider_admin", 200),
        ("service_user", 200),
        ("custom_groups", 200),
        ("bob", 403),
        ("custom", 403),  # manage users only
        ("custom_collections", 403),
        ("manager", 403),  # "can manage" a collection is not managing groups
        ("service_user_in_scope", 200),  # limited to a list of clients that has this one
        ("service_user_out_of_scope", 404),
        ("other_provider_admin", 404),
        ("charlie", 404),
    ],
)
def test_role_matrix_for_the_group_pages(team, login, who, expected):
    makers = {
        "custom_groups": lambda: custom_member(team.org, "cg@example.test", can_manage_groups=True)[
            0
        ],
        "custom_collections": lambda: custom_member(
            team.org, "cc@example.test", can_manage_collections=True
        )[0],
        "manager": lambda: manager_of(team.collection)[0],
    }
    if who.startswith("service_user_"):
        row = team.service_user.provider_users.get()
        row.access_all_clients = False
        row.save()
        if who == "service_user_in_scope":
            row.client_scope.add(team.org)
        user = team.service_user
    else:
        user = makers[who]() if who in makers else getattr(team, who)
    client = login(user)
    urls = [org_url("org_groups", team.org), org_url("org_group_new", team.org)] + [
        group_url(name, team)
        for name in [
            "org_group_edit",
            "org_group_members",
            "org_group_collections",
            "org_group_delete",
        ]
    ]
    assert {client.get(url).status_code for url in urls} == {expected}
    # And a write is refused the same way, changing nothing.
    response = client.post(group_url("org_group_edit", team), {"name": "Renamed"})
    assert response.status_code == (302 if expected == 200 else expected)
    team.team.refresh_from_db()
    assert (team.team.name == "Renamed") == (expected == 200)
