"""Vault fixtures on top of the `world` trio: org keys, and items made through the services."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from clients.models import Collection, Organization
from portal.access import VaultAccess, resolve, vault_access
from vault.content import CustomField, ItemContent, ItemType, LoginUri
from vault.key_management import org_keys_create
from vault.models import Item, OrgKey
from vault.services import item_create

# The fixture item's secrets. Each has characters that never occur in a UUID or a CSRF
# token, so "not in the page" cannot fail, nor "in the page" pass, by a random match.
PASSWORD = "s3cret-Pa55"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"
HIDDEN_PIN = "pin-4q21-zx"


def access_for(user, org: Organization) -> VaultAccess:
    actor = resolve(user, org)
    assert actor is not None, f"{user} has no relationship with {org}"
    access = vault_access(actor)
    assert access is not None, f"{user} has no vault access in {org}"
    return access


def login_content(name: str = "Bank login", **fields: str) -> ItemContent:
    values = {"username": "alice", "password": PASSWORD, "totp": TOTP_SECRET, **fields}
    return ItemContent(
        type=ItemType.LOGIN,
        name=name,
        fields={k: v for k, v in values.items() if v},
        uris=(LoginUri("https://bank.example/login"),),
        notes="a note",
        custom_fields=(
            CustomField(id="c1", name="PIN", kind="hidden", value=HIDDEN_PIN),
            CustomField(id="c2", name="Branch", kind="text", value="Main street"),
        ),
    )


def make_item(
    user,
    org: Organization,
    collections: Iterable[Collection],
    content: ItemContent | None = None,
    reprompt: bool = False,
) -> Item:
    return item_create(
        access=access_for(user, org),
        content=content or login_content(),
        collection_ids=[c.pk for c in collections],
        reprompt=reprompt,
    )


def give_keys(*orgs: Organization) -> None:
    for org in orgs:
        if not OrgKey.objects.filter(org=org).exists():
            org_keys_create(org=org)


@pytest.fixture
def vault_world(world):
    """The `world`, with vault keys for both orgs and one login in the shared collection."""
    give_keys(world.org, world.other_org)
    world.item = make_item(world.alice, world.org, [world.collection])
    world.other_item = make_item(world.charlie, world.other_org, [world.other_collection])
    return world
