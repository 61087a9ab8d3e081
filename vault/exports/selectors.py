"""What an export takes, and the items opened in batches, through the exporter's vault access.

The rule (Bitwarden's organization export, held to our access model): an export holds
every item of the org, outside the trash, that the exporter's vault access reaches at a
level that sees secrets. Owners and admins reach every item unless the org turns that off;
anyone else (and admins then) takes the items of their collections. An item reached only
at an "except passwords" level is left out rather than exported without its secrets, so
that no file looks whole while it is not; the page says how many are left out.

Each item is opened with the `ItemGrant` that `VaultAccess.grant_item` issues, as on the
vault pages; nothing here builds access by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet

from clients.models import AccessLevel, Collection
from portal.access import VaultAccess
from vault.content import ItemContent
from vault.crypto import KeyChain, open_item
from vault.models import Favorite, Item
from vault.selectors import items_reachable, visible_collections

BATCH_SIZE = 200


def exportable_items(access: VaultAccess) -> QuerySet[Item]:
    """The items an export holds: reached at a level that sees secrets, outside the trash.

    An item's level is the most permissive of its collections' (see `portal.access`):
    it sees secrets when one collection gives "can edit" or "can manage", or when one
    gives "can view" and none gives "can edit except passwords" (which outranks it).
    """
    items = items_reachable(access).filter(deleted_at__isnull=True)
    if access.reaches_all_items:
        return items
    by_level: dict[str, list[UUID]] = {}
    for collection_id, level in access.collection_levels.items():
        by_level.setdefault(level, []).append(collection_id)
    through = Item.collections.through.objects
    strong = by_level.get(AccessLevel.EDIT, []) + by_level.get(AccessLevel.MANAGE, [])
    in_strong = through.filter(collection_id__in=strong).values("item_id")
    in_view = through.filter(collection_id__in=by_level.get(AccessLevel.VIEW, [])).values("item_id")
    in_edit_except = through.filter(
        collection_id__in=by_level.get(AccessLevel.EDIT_EXCEPT_PASSWORDS, [])
    ).values("item_id")
    return items.filter(Q(pk__in=in_strong) | (Q(pk__in=in_view) & ~Q(pk__in=in_edit_except)))


@dataclass(frozen=True)
class ExportPlan:
    item_count: int  # items the export holds
    left_out: int  # items reached only at an "except passwords" level


def export_plan(access: VaultAccess, *, only_types: set[str] | None = None) -> ExportPlan:
    """How many items the export holds (of these types only, for a CSV), and leaves out."""
    reached = items_reachable(access).filter(deleted_at__isnull=True)
    exportable = exportable_items(access)
    if only_types is not None:
        reached = reached.filter(type__in=only_types)
        exportable = exportable.filter(type__in=only_types)
    count = exportable.count()
    return ExportPlan(item_count=count, left_out=reached.count() - count)


def export_collections(access: VaultAccess) -> list[Collection]:
    """The collections the exporter sees, by name: the file's "collections"."""
    return list(visible_collections(access))


def check_data_keys(access: VaultAccess, keychain: KeyChain) -> None:
    """Open every data key the export needs before the first byte is sent.

    A key that fails its tag or cannot be opened raises `ItemUnreadable` here, while the
    view can still answer a page, rather than cutting the download short.
    """
    data_key_ids = set(
        exportable_items(access).order_by().values_list("data_key_id", flat=True).distinct()
    )
    keychain.load_data_keys(data_key_ids)
    for data_key_id in data_key_ids:
        keychain.data_key(data_key_id)  # raises the stored failure, if any


@dataclass(frozen=True)
class OpenedItem:
    item: Item
    content: ItemContent
    collection_ids: list[UUID]  # those the exporter sees
    collection_names: list[str]
    favorite: bool

    def __repr__(self) -> str:
        return f"OpenedItem(item={self.item.pk})"


def opened_items(access: VaultAccess, keychain: KeyChain) -> Iterator[OpenedItem]:
    """The export's items, opened one at a time, read from the database in batches.

    A fixed number of queries per batch (items, their collections, favourites), so
    memory holds one batch of ciphertext and one opened item at a time.
    """
    collections = Prefetch("collections", queryset=Collection.objects.order_by("name", "pk"))
    items = (
        exportable_items(access)
        .order_by("created_at", "pk")
        .prefetch_related(collections)
        .iterator(chunk_size=BATCH_SIZE)
    )
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH_SIZE:
            yield from _open_batch(access, batch, keychain)
            batch = []
    if batch:
        yield from _open_batch(access, batch, keychain)


def _open_batch(access: VaultAccess, batch: list[Item], keychain: KeyChain):
    keychain.load_data_keys({item.data_key_id for item in batch})
    favorites = set(
        Favorite.objects.filter(user=access.actor.user, item__in=batch).values_list(
            "item_id", flat=True
        )
    )
    for item in batch:
        all_collections = list(item.collections.all())
        grant = access.grant_item(
            org_id=item.org_id, item_id=item.pk, collection_ids=[c.pk for c in all_collections]
        )
        if grant is None or not grant.can_see_secrets:
            continue  # never reached: exportable_items chose it; kept as a guard
        content = open_item(grant, item, keychain)
        seen = [c for c in all_collections if access.level_for([c.pk])]
        yield OpenedItem(
            item=item,
            content=content,
            collection_ids=[c.pk for c in seen],
            collection_names=[c.name for c in seen],
            favorite=item.pk in favorites,
        )
