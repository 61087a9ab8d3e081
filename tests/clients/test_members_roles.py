"""Who may do what to whom among members: the permission layer's rules, and a role
matrix over every members page and action (the cast of members_helpers)."""

import pytest

from clients.models import MemberRole, Membership, MemberStatus
from portal.access import (
    ALL_CUSTOM_FLAGS,
    flags_actor_may_grant,
    grant_refusal,
    may_manage_member,
    member_management_refusal,
    roles_actor_may_grant,
)

from .members_helpers import (
    ACTORS,
    ADMIN,
    CUSTOM_MANAGER,
    LIMITED,
    MANAGERS,
    OWNER,
    PROVIDER_ADMIN,
    SERVICE_IN_SCOPE,
    STRANGERS,
    actor_for,
    add_member,
    cast,
    member,
    url,
)

pytestmark = pytest.mark.django_db

ALL_ROLES = set(MemberRole.values)


@pytest.mark.parametrize(
    "who, roles",
    [
        (OWNER, ALL_ROLES),
        (ADMIN, {"admin", "user", "custom"}),
        (CUSTOM_MANAGER, {"user", "custom"}),
        (PROVIDER_ADMIN, ALL_ROLES),
        (SERVICE_IN_SCOPE, ALL_ROLES),
    ],
)
def test_roles_each_manager_may_grant(world, who, roles):
    actor = actor_for(cast(world)[who], world.org)
    assert roles_actor_may_grant(actor) == roles


def test_only_a_user_managers_own_flags_may_be_granted(world):
    custom = actor_for(world.custom, world.org)
    assert flags_actor_may_grant(custom) == {"can_manage_users"}
    assert flags_actor_may_grant(actor_for(world.org_admin, world.org)) == ALL_CUSTOM_FLAGS
    assert grant_refusal(custom, "custom", {"can_manage_users"}) is None
    assert "you do not hold: can_manage_groups" in grant_refusal(
        custom, "custom", {"can_manage_users", "can_manage_groups"}
    )
    assert "Only owners and provider staff" in grant_refusal(custom, "owner")
    assert "cannot give the Admin role" in grant_refusal(custom, "admin")


def test_members_without_member_management_grant_nothing(world):
    for user in (world.bob, cast(world)["custom_plain"]):
        actor = actor_for(user, world.org)
        assert roles_actor_may_grant(actor) == set()
        assert flags_actor_may_grant(actor) == frozenset()


def test_whom_each_actor_may_manage(world):
    owner2 = add_member(world.org, "owner2@example.test", role=MemberRole.OWNER)
    rich_custom = add_member(
        world.org,
        "rich@example.test",
        role=MemberRole.CUSTOM,
        can_manage_users=True,
        can_manage_groups=True,
    )
    bob, admin = member(world, world.bob), member(world, world.org_admin)
    owner_actor = actor_for(world.alice, world.org)
    admin_actor = actor_for(world.org_admin, world.org)
    custom_actor = actor_for(world.custom, world.org)
    provider_actor = actor_for(world.provider_admin, world.org)
    assert may_manage_member(owner_actor, owner2) and may_manage_member(provider_actor, owner2)
    assert "only owners and provider staff" in member_management_refusal(admin_actor, owner2)
    assert may_manage_member(admin_actor, bob) and may_manage_member(admin_actor, rich_custom)
    assert may_manage_member(custom_actor, bob)
    assert not may_manage_member(custom_actor, admin)
    assert "permissions you do not hold" in member_management_refusal(custom_actor, rich_custom)
    # Nobody manages their own membership: they leave instead.
    assert "your own membership" in member_management_refusal(
        owner_actor, member(world, world.alice)
    )


def expected_status(who, *, ok):
    if who in MANAGERS:
        return ok
    return 403 if who in LIMITED else 404


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("page", ["org_members", "org_members_invite", "org_member_edit"])
def test_members_pages_role_matrix(world, login, who, page):
    args = [member(world, world.bob).pk] if page == "org_member_edit" else []
    response = login(cast(world)[who]).get(url(page, world.org, *args))
    assert response.status_code == expected_status(who, ok=200)


@pytest.mark.parametrize("who", ACTORS)
def test_leave_page_role_matrix(world, login, who):
    response = login(cast(world)[who]).get(url("org_leave", world.org))
    members = {OWNER, ADMIN, CUSTOM_MANAGER, "user", "custom_plain"}
    assert response.status_code == (200 if who in members else 404)


@pytest.mark.parametrize("who", ACTORS)
def test_invite_role_matrix(world, login, who):
    client = login(cast(world)[who])
    response = client.post(
        url("org_members_invite", world.org), {"emails": "new@example.test", "role": "user"}
    )
    assert response.status_code == expected_status(who, ok=302)
    invited = Membership.objects.filter(org=world.org, email="new@example.test").exists()
    assert invited == (who in MANAGERS)


ACTION_SETUP = {
    # action: (status of the target before, status expected after when allowed)
    "confirm": (MemberStatus.ACCEPTED, MemberStatus.CONFIRMED),
    "revoke": (MemberStatus.CONFIRMED, MemberStatus.REVOKED),
    "restore": (MemberStatus.REVOKED, MemberStatus.CONFIRMED),
    "remove": (MemberStatus.CONFIRMED, None),
}


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("action", sorted(ACTION_SETUP))
def test_status_actions_role_matrix(world, login, who, action):
    before, after = ACTION_SETUP[action]
    target = add_member(world.org, "target@example.test", status=before)
    if before == MemberStatus.REVOKED:
        target.prior_status = MemberStatus.CONFIRMED
        target.save()
    client = login(cast(world)[who])
    response = client.post(
        url("org_members_bulk", world.org),
        {"action": action, "members": [target.pk], "confirmed": "1"},
    )
    assert response.status_code == expected_status(who, ok=302)
    row = Membership.objects.filter(pk=target.pk).first()
    if who in MANAGERS:
        assert (row.status if row else None) == after
    else:
        assert row is not None and row.status == before


@pytest.mark.parametrize("who", ACTORS)
def test_edit_role_matrix(world, login, who):
    bob = member(world, world.bob)
    client = login(cast(world)[who])
    response = client.post(
        url("org_member_edit", world.org, bob.pk),
        {"role": "custom", "flags": ["can_manage_users"]},
    )
    assert response.status_code == expected_status(who, ok=302)
    bob.refresh_from_db()
    assert (bob.role == MemberRole.CUSTOM) == (who in MANAGERS)
    assert STRANGERS.isdisjoint(MANAGERS)
