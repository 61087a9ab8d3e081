"""The permission layer itself: the tables, resolve(), and the decorators' answers."""

import pytest

from clients.models import MemberRole, MemberStatus
from portal import access
from portal.access import (
    CUSTOM_FLAG_CAPABILITIES,
    ORG_CAPABILITIES,
    VAULT_CAPABILITIES,
    Capability,
    Relationship,
    most_permissive_level,
    resolve,
)
from providers.models import ProviderRole, ProviderUserStatus
from tests import factories

PROVIDER_RELATIONSHIPS = [Relationship.PROVIDER_ADMIN, Relationship.SERVICE_USER]


@pytest.mark.parametrize("relationship", PROVIDER_RELATIONSHIPS)
def test_provider_rows_hold_no_vault_capability(relationship):
    assert not ORG_CAPABILITIES[relationship] & VAULT_CAPABILITIES


def test_vault_capabilities_are_named_in_the_table():
    # If a vault capability were added to Capability but not to VAULT_CAPABILITIES,
    # the provider check above would not cover it.
    assert {
        Capability.ITEMS_USE,
        Capability.ITEMS_ACCESS_ALL,
        Capability.EXPORT,
    } <= VAULT_CAPABILITIES


def test_every_relationship_and_custom_flag_has_a_row():
    assert set(ORG_CAPABILITIES) == set(Relationship)
    from clients.models import CUSTOM_PERMISSION_FLAGS

    assert set(CUSTOM_FLAG_CAPABILITIES) == {flag for flag, _label in CUSTOM_PERMISSION_FLAGS}


def test_custom_flags_never_grant_all_items():
    for capabilities in CUSTOM_FLAG_CAPABILITIES.values():
        assert Capability.ITEMS_ACCESS_ALL not in capabilities


def test_resolve_owner(world):
    actor = resolve(world.alice, world.org)
    assert actor.relationships == {Relationship.OWNER}
    assert actor.can(Capability.MEMBERS_MANAGE) and actor.can(Capability.ITEMS_USE)
    assert actor.vault_membership is not None
    assert not actor.via_provider


def test_resolve_stranger_is_none(world):
    assert resolve(world.charlie, world.org) is None
    assert resolve(world.other_provider_admin, world.org) is None


@pytest.mark.parametrize(
    "status", [MemberStatus.INVITED, MemberStatus.ACCEPTED, MemberStatus.REVOKED]
)
def test_only_confirmed_members_resolve(world, status):
    user = factories.UserFactory()
    factories.MembershipFactory(org=world.org, user=user, role=MemberRole.ADMIN, status=status)
    assert resolve(user, world.org) is None


@pytest.mark.parametrize("status", [ProviderUserStatus.INVITED, ProviderUserStatus.ACCEPTED])
def test_only_confirmed_provider_users_resolve(world, status):
    provider_user = factories.ProviderUserFactory(provider=world.provider, status=status)
    assert resolve(provider_user.user, world.org) is None


def test_provider_admin_resolves_without_vault(world):
    actor = resolve(world.provider_admin, world.org)
    assert actor.via_provider
    assert actor.acting_provider == world.provider
    assert actor.can(Capability.MEMBERS_MANAGE)
    assert not actor.can(Capability.ITEMS_USE)
    assert actor.vault_membership is None


def test_disabled_provider_grants_nothing(world):
    world.provider.enabled = False
    world.provider.save()
    assert resolve(world.provider_admin, world.org) is None


def test_service_user_scope(world):
    provider_user = world.service_user.provider_users.get()
    provider_user.access_all_clients = False
    provider_user.save()
    assert resolve(world.service_user, world.org) is None
    provider_user.client_scope.add(world.org)
    assert resolve(world.service_user, world.org) is not None


def test_provider_admin_who_is_also_member_uses_the_membership_for_the_vault(world):
    membership = factories.MembershipFactory(
        org=world.org, user=world.provider_admin, role=MemberRole.USER
    )
    actor = resolve(world.provider_admin, world.org)
    assert actor.vault_membership == membership
    assert not actor.via_provider
    assert actor.can(Capability.MEMBERS_MANAGE)  # still manages through the provider


def test_custom_role_gets_exactly_its_flags(world):
    actor = resolve(world.custom, world.org)
    assert actor.can(Capability.MEMBERS_MANAGE)
    assert not actor.can(Capability.GROUPS_MANAGE)
    assert not actor.can(Capability.ITEMS_ACCESS_ALL)


def test_most_permissive_level_wins():
    assert most_permissive_level(["view", "manage", "edit"]) == "manage"
    assert most_permissive_level(["view_except_passwords", "view"]) == "view"
    assert most_permissive_level(["edit_except_passwords", "view"]) == "edit_except_passwords"
    assert most_permissive_level([None]) is None


def test_no_other_module_compares_roles():
    """Roles are compared in the permission layer only (DESIGN.md)."""
    import pathlib
    import re

    root = pathlib.Path(access.__file__).resolve().parent.parent
    pattern = re.compile(
        r"(MemberRole|ProviderRole)\.\w+\s*(==|!=|in\b)|(==|!=)\s*(MemberRole|ProviderRole)\."
    )
    offenders = []
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "migrations" in path.parts:
            continue
        if path.name == "access.py" and path.parent.name == "portal":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) or re.search(r"\.role\s*(==|!=|in)\s", line):
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert not offenders, "Role comparisons outside portal/access.py:\n" + "\n".join(offenders)


def test_provider_role_table_is_complete():
    assert set(access.PROVIDER_CAPABILITIES) == set(PROVIDER_RELATIONSHIPS)
    assert set(access._PROVIDER_RELATIONSHIP) == set(ProviderRole)
