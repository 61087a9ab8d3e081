"""Item access per role and grant: the vault part of the permission layer."""

from __future__ import annotations

import pytest

from clients.models import AccessLevel, MemberRole, MemberStatus
from portal.access import resolve, vault_access
from providers.models import ProviderRole
from tests import factories
from vault.crypto import KeyChain, open_item

from .conftest import HIDDEN_PIN, give_keys, login_content, make_item

pytestmark = pytest.mark.django_db

L = AccessLevel


@pytest.fixture
def setting(world):
    """Two collections A and B in alice's org, dora a plain user in a group."""
    give_keys(world.org)
    world.a = factories.CollectionFactory(org=world.org, name="A")
    world.b = factories.CollectionFactory(org=world.org, name="B")
    world.dora = factories.UserFactory(email="dora@example.test")
    world.dora_membership = factories.MembershipFactory(org=world.org, user=world.dora)
    world.group = factories.GroupFactory(org=world.org, name="Team")
    world.group.members.add(world.dora_membership)
    world.item_a = make_item(world.alice, world.org, [world.a])
    world.item_ab = make_item(world.alice, world.org, [world.a, world.b])
    return world


def level(user, org, item) -> str | None:
    actor = resolve(user, org)
    access = vault_access(actor) if actor else None
    if access is None:
        return None
    collection_ids = list(item.collections.values_list("pk", flat=True))
    grant = access.grant_item(org_id=item.org_id, item_id=item.pk, collection_ids=collection_ids)
    return grant.level if grant else None


def direct(w, collection, grant_level):
    factories.CollectionMemberGrantFactory(
        collection=collection, membership=w.dora_membership, level=grant_level
    )


def via_group(w, collection, grant_level):
    factories.CollectionGroupGrantFactory(collection=collection, group=w.group, level=grant_level)


def test_no_grant_no_item(setting):
    assert level(setting.dora, setting.org, setting.item_a) is None


@pytest.mark.parametrize(
    ("direct_level", "group_level", "expected"),
    [
        (L.VIEW, None, L.VIEW),
        (None, L.EDIT, L.EDIT),
        (L.VIEW_EXCEPT_PASSWORDS, L.EDIT, L.EDIT),
        (L.MANAGE, L.VIEW, L.MANAGE),
        (L.EDIT_EXCEPT_PASSWORDS, L.VIEW, L.EDIT_EXCEPT_PASSWORDS),
        (L.VIEW_EXCEPT_PASSWORDS, L.VIEW_EXCEPT_PASSWORDS, L.VIEW_EXCEPT_PASSWORDS),
    ],
)
def test_user_and_group_grants_combine_most_permissive_wins(
    setting, direct_level, group_level, expected
):
    if direct_level:
        direct(setting, setting.a, direct_level)
    if group_level:
        via_group(setting, setting.a, group_level)
    assert level(setting.dora, setting.org, setting.item_a) == expected


def test_an_item_in_two_collections_takes_the_best_of_both(setting):
    direct(setting, setting.a, L.VIEW_EXCEPT_PASSWORDS)
    via_group(setting, setting.b, L.MANAGE)
    assert level(setting.dora, setting.org, setting.item_ab) == L.MANAGE
    assert level(setting.dora, setting.org, setting.item_a) == L.VIEW_EXCEPT_PASSWORDS


@pytest.mark.parametrize(
    ("grant_level", "secrets", "edit", "manage"),
    [
        (L.VIEW_EXCEPT_PASSWORDS, False, False, False),
        (L.VIEW, True, False, False),
        (L.EDIT_EXCEPT_PASSWORDS, False, True, False),
        (L.EDIT, True, True, False),
        (L.MANAGE, True, True, True),
    ],
)
def test_what_each_level_allows(setting, grant_level, secrets, edit, manage):
    direct(setting, setting.a, grant_level)
    access = vault_access(resolve(setting.dora, setting.org))
    grant = access.grant_item(
        org_id=setting.org.pk, item_id=setting.item_a.pk, collection_ids=[setting.a.pk]
    )
    assert (grant.can_see_secrets, grant.can_edit, grant.can_manage) == (secrets, edit, manage)
    content = open_item(grant, setting.item_a, KeyChain(setting.org.pk))
    assert ("password" in content.fields) is secrets
    assert ("totp" in content.fields) is secrets
    assert (content.custom_fields[0].value == HIDDEN_PIN) is secrets
    assert content.get("username") == "alice"


@pytest.mark.parametrize("role", [MemberRole.OWNER, MemberRole.ADMIN])
def test_owners_and_admins_reach_every_item(setting, role):
    boss = factories.MembershipFactory(org=setting.org, role=role).user
    assert level(boss, setting.org, setting.item_a) == L.MANAGE


@pytest.mark.parametrize("role", [MemberRole.OWNER, MemberRole.ADMIN])
def test_org_setting_limits_owners_and_admins_to_their_grants(setting, role):
    setting.org.admins_access_all_items = False
    setting.org.save(update_fields=["admins_access_all_items"])
    membership = factories.MembershipFactory(org=setting.org, role=role)
    assert level(membership.user, setting.org, setting.item_a) is None
    factories.CollectionMemberGrantFactory(
        collection=setting.a, membership=membership, level=L.VIEW
    )
    assert level(membership.user, setting.org, setting.item_a) == L.VIEW


def test_custom_roles_reach_items_only_through_grants(setting):
    flags = {
        f"can_{name}": True
        for name in (
            "access_event_logs",
            "access_import_export",
            "manage_collections",
            "manage_groups",
            "manage_policies",
            "manage_users",
        )
    }
    membership = factories.MembershipFactory(org=setting.org, role=MemberRole.CUSTOM, **flags)
    assert level(membership.user, setting.org, setting.item_a) is None
    factories.CollectionMemberGrantFactory(
        collection=setting.a, membership=membership, level=L.EDIT_EXCEPT_PASSWORDS
    )
    assert level(membership.user, setting.org, setting.item_a) == L.EDIT_EXCEPT_PASSWORDS


@pytest.mark.parametrize("who", ["provider_admin", "service_user"])
def test_provider_staff_have_no_vault_access(setting, who):
    actor = resolve(getattr(setting, who), setting.org)
    assert actor is not None and vault_access(actor) is None


def test_provider_admin_who_is_a_member_reaches_items_through_the_membership_only(setting):
    membership = factories.MembershipFactory(
        org=setting.org, user=setting.provider_admin, role=MemberRole.USER
    )
    assert level(setting.provider_admin, setting.org, setting.item_a) is None
    factories.CollectionMemberGrantFactory(
        collection=setting.a, membership=membership, level=L.VIEW
    )
    assert level(setting.provider_admin, setting.org, setting.item_a) == L.VIEW
    assert level(setting.provider_admin, setting.org, setting.item_ab) == L.VIEW


@pytest.mark.parametrize(
    "status", [MemberStatus.INVITED, MemberStatus.ACCEPTED, MemberStatus.REVOKED]
)
def test_unconfirmed_members_reach_nothing(setting, status):
    setting.dora_membership.status = status
    setting.dora_membership.save(update_fields=["status"])
    direct(setting, setting.a, L.MANAGE)
    assert level(setting.dora, setting.org, setting.item_a) is None


def test_grants_in_another_org_do_not_count(setting):
    give_keys(setting.other_org)
    theirs = make_item(setting.charlie, setting.other_org, [setting.other_collection])
    # A grant row pointing across orgs (the services refuse to make one) still gives nothing.
    factories.CollectionMemberGrantFactory(
        collection=setting.other_collection, membership=setting.dora_membership, level=L.MANAGE
    )
    access = vault_access(resolve(setting.dora, setting.org))
    assert setting.other_collection.pk not in access.collection_levels
    assert access.grant_item(org_id=theirs.org_id, item_id=theirs.pk, collection_ids=[]) is None


def test_strangers_have_no_actor(setting):
    assert resolve(setting.charlie, setting.org) is None
    other_provider_admin = factories.ProviderUserFactory(role=ProviderRole.ADMIN).user
    assert resolve(other_provider_admin, setting.org) is None


def test_login_content_fixture_has_every_secret_kind():
    content = login_content()
    assert {"password", "totp"} <= set(content.fields)
