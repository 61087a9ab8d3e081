"""Reads on the vault, always through the org and the actor's `VaultAccess`.

The list page runs a fixed number of queries whatever the number of items:
without a search it pages in SQL (newest change first) and decrypts the names
of one page; a search decrypts the names of every item the actor reaches
(names are ciphertext, so SQL cannot search them) and pages the matches.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet, TextField
from django.db.models.functions import Cast

from clients.models import Collection
from portal.access import ItemGrant, VaultAccess
from portal.pagination import PAGE_SIZE

from . import name_cache
from .content import ItemType
from .crypto import ItemUnreadable, KeyChain, NameRow, open_names
from .models import Favorite, Item

SEARCH_MAX = 100


@dataclass(frozen=True)
class ItemFilter:
    collection_id: UUID | None = None
    item_type: str | None = None
    favorites: bool = False
    trash: bool = False
    search: str = ""


@dataclass
class ItemRow:
    item: Item
    name: str | None = field(repr=False)  # None: the name could not be decrypted
    level: str
    favorite: bool
    collections: list[Collection]

    @property
    def type_label(self) -> str:
        return ItemType(self.item.type).label


@dataclass
class ItemListPage:
    page: Page
    rows: list[ItemRow]
    failures: list[ItemUnreadable] = field(default_factory=list)


def visible_collections(access: VaultAccess) -> QuerySet[Collection]:
    """The org's collections that reach the actor (all of them for "access all items")."""
    collections = Collection.objects.filter(org=access.org)
    if not access.reaches_all_items:
        collections = collections.filter(pk__in=list(access.collection_levels))
    return collections.order_by("name", "pk")


def editable_collections(access: VaultAccess) -> list[Collection]:
    return [c for c in visible_collections(access) if access.can_add_to(c.pk)]


def items_reachable(access: VaultAccess) -> QuerySet[Item]:
    items = Item.objects.filter(org=access.org)
    if access.hidden_item_types:  # removed by a policy (e.g. cards)
        items = items.exclude(type__in=access.hidden_item_types)
    if not access.reaches_all_items:
        through = Item.collections.through.objects.filter(
            collection_id__in=list(access.collection_levels)
        )
        items = items.filter(pk__in=through.values("item_id"))
    return items


def _filtered(access: VaultAccess, item_filter: ItemFilter) -> QuerySet[Item]:
    items = items_reachable(access).filter(deleted_at__isnull=not item_filter.trash)
    if item_filter.collection_id is not None:
        items = items.filter(collections__pk=item_filter.collection_id)
    if item_filter.item_type:
        items = items.filter(type=item_filter.item_type)
    if item_filter.favorites:
        favorites = Favorite.objects.filter(user=access.actor.user).values("item_id")
        items = items.filter(pk__in=favorites)
    return items


def item_list_page(
    *, access: VaultAccess, item_filter: ItemFilter, page_number, keychain: KeyChain
) -> ItemListPage:
    items = _filtered(access, item_filter)
    if item_filter.search.strip():
        return _searched_page(access, items, item_filter.search, page_number, keychain)
    ordered = items.defer("data_ciphertext").order_by("-updated_at", "pk")
    page = Paginator(ordered, PAGE_SIZE).get_page(page_number)
    page_items = _with_collections(page.object_list)
    names, failures = _names(access, page_items, keychain)
    return ItemListPage(page=page, rows=_rows(access, page_items, names), failures=failures)


def _searched_page(access, items, search, page_number, keychain) -> ItemListPage:
    names, failures = _names_for_search(access, items, keychain)
    term = search.strip().casefold()
    folded = {key: name.casefold() for key, name in names.items()}
    # Ties in name are ordered by id, so that pages do not shuffle between requests.
    matches = sorted(
        (key for key, name in folded.items() if term in name), key=lambda k: (folded[k], k)
    )
    page = Paginator(matches, PAGE_SIZE).get_page(page_number)
    page_ids = {UUID(key): key for key in page.object_list}
    page_query = Item.objects.filter(org=access.org, pk__in=list(page_ids))
    by_pk = {item.pk: item for item in _with_collections(page_query)}
    page_items = [by_pk[pk] for pk in page_ids if pk in by_pk]
    page_names = {pk: names[key] for pk, key in page_ids.items()}
    return ItemListPage(page=page, rows=_rows(access, page_items, page_names), failures=failures)


# Ids travel as the database's own text for them (hex or hyphenated): thousands of rows
# are matched against the name cache, and only the page's ids become UUIDs.
_ID_TEXT = Cast("pk", output_field=TextField())
_DATA_KEY_TEXT = Cast("data_key_id", output_field=TextField())
_MISSES_BY_ID_MAX = 500


@contextmanager
def _without_gc_pauses():
    """Opening 10,000 names allocates some 50,000 short-lived objects, none in a cycle.

    Meanwhile Python's cycle collector would walk the whole heap several times, which
    measured as a third to a half of a first search; reference counting frees them anyway.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _names_for_search(access, items, keychain) -> tuple[dict[str, str], list[ItemUnreadable]]:
    """Every name the filters select, by id text; opened from the database unless cached."""
    with _without_gc_pauses():
        return _names_for_search_uncollected(access, items, keychain)


def _names_for_search_uncollected(access, items, keychain):
    cached, expires_at = name_cache.load(access=access, keychain=keychain)
    if not cached:  # one query brings everything to open
        rows = list(items.values_list(_ID_TEXT, "revision", _DATA_KEY_TEXT, "name_ciphertext"))
        revisions = {key: revision for key, revision, _, _ in rows}
        names: dict[str, str] = {}
        opened, failures = _open_rows(access, ((k, d, b) for k, _, d, b in rows), keychain)
    else:
        revisions = dict(items.values_list(_ID_TEXT, "revision"))
        names = {key: entry[1] for key, entry in cached.items() if revisions.get(key) == entry[0]}
        missing = {key for key in revisions if key not in names}
        if not missing:
            return names, []
        opened, failures = _open_missing(access, items, missing, keychain)
    names.update(opened)
    cached.update({key: [revisions[key], name] for key, name in opened.items()})
    name_cache.save(access=access, keychain=keychain, entries=cached, expires_at=expires_at)
    return names, failures


def _open_missing(access, items, missing: set[str], keychain):
    """Open the names the cache lacks: by id when few, else by the same filtered query."""
    if len(missing) <= _MISSES_BY_ID_MAX:
        items = Item.objects.filter(org=access.org, pk__in=[UUID(key) for key in missing])
    fetched = items.values_list(_ID_TEXT, _DATA_KEY_TEXT, "name_ciphertext")
    return _open_rows(access, (row for row in fetched if row[0] in missing), keychain)


def _open_rows(access, rows, keychain) -> tuple[dict[str, str], list[ItemUnreadable]]:
    """Open (id text, data key text, name ciphertext) rows; names by id text."""
    key_ids: dict[str, UUID] = {}
    text_of: dict[UUID, str] = {}
    name_rows: list[NameRow] = []
    for key, key_text, blob in rows:
        data_key_id = key_ids.get(key_text)
        if data_key_id is None:
            data_key_id = key_ids[key_text] = UUID(key_text)
        item_id = UUID(key)
        text_of[item_id] = key
        name_rows.append((item_id, data_key_id, blob))
    opened, failures = open_names(access, name_rows, keychain)
    return {text_of[pk]: name for pk, name in opened.items()}, failures


def _with_collections(items: QuerySet[Item]) -> list[Item]:
    """The page's items, without their (large, unneeded) bodies, with their collections."""
    collections = Prefetch("collections", queryset=Collection.objects.order_by("name"))
    return list(items.defer("data_ciphertext").prefetch_related(collections))


def _names(access, items: list[Item], keychain: KeyChain):
    rows = [(item.pk, item.data_key_id, item.name_ciphertext) for item in items]
    return open_names(access, rows, keychain)


def _rows(access: VaultAccess, items: Iterable[Item], names: dict[UUID, str]) -> list[ItemRow]:
    items = list(items)
    favorites = set(
        Favorite.objects.filter(user=access.actor.user, item__in=items).values_list(
            "item_id", flat=True
        )
    )
    rows = []
    for item in items:
        collections = list(item.collections.all())
        rows.append(
            ItemRow(
                item=item,
                name=names.get(item.pk),
                level=access.level_for(c.pk for c in collections),
                favorite=item.pk in favorites,
                collections=[c for c in collections if access.level_for([c.pk])],
            )
        )
    return rows


# --------------------------------------------------------------------------
# One item
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemAccess:
    item: Item
    grant: ItemGrant
    collections: list[Collection]  # those the actor can see


def item_access(*, access: VaultAccess, item_id: UUID) -> ItemAccess | None:
    """The item with a grant on it, or None (not in this org, or no collection reaches the actor).

    Callers answer 404 for None: the same page for items that do not exist.
    """
    item = (
        Item.objects.filter(org=access.org, pk=item_id)
        .prefetch_related(Prefetch("collections", queryset=Collection.objects.order_by("name")))
        .first()
    )
    if item is None or item.type in access.hidden_item_types:
        return None
    all_collections = list(item.collections.all())
    grant = access.grant_item(
        org_id=item.org_id, item_id=item.pk, collection_ids=[c.pk for c in all_collections]
    )
    if grant is None:
        return None
    visible = [c for c in all_collections if access.level_for([c.pk])]
    return ItemAccess(item=item, grant=grant, collections=visible)


def is_favorite(*, grant: ItemGrant) -> bool:
    return Favorite.objects.filter(user=grant.actor.user, item_id=grant.item_id).exists()
