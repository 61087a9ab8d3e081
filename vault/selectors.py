"""Reads on the vault, always through the org and the actor's `VaultAccess`.

The list page runs a fixed number of queries whatever the number of items:
without a search it pages in SQL (newest change first) and decrypts the names
of one page; a search matches the text against the org's name index (names are
ciphertext, so SQL cannot search them: `vault.name_index`), keeps in SQL the
matching items the actor reaches, and pages them.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BinaryField,
    Exists,
    F,
    FilteredRelation,
    Func,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils.timezone import get_current_timezone

from clients.models import Collection
from portal.access import ItemGrant, VaultAccess
from portal.pagination import PAGE_SIZE, Column, ListPaginator
from portal.prepared import PreparedQuery, attach_prefetched, row_count
from portal.row_links import url_for_each

from . import name_index, tallies
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
    url: str  # the item's page
    updated: str  # when it last changed, in the current time zone, for the list's column

    @property
    def type_label(self) -> str:
        return ItemType(self.item.type).label


@dataclass
class ItemListPage:
    page: Page
    rows: list[ItemRow]
    failures: list[ItemUnreadable] = field(default_factory=list)

    @property
    def page_targets(self) -> list[int]:
        """The pages a search links to: the first, the last and the current one's neighbours
        (a search matching every item has a thousand pages; the template loops over five)."""
        number, last = self.page.number, self.page.paginator.num_pages
        return sorted({1, number - 1, number, number + 1, last} & set(range(1, last + 1)))


# The list's queries run on every page of the vault: prepared once per process and shape
# (portal/prepared.py). Their arguments are ids and strings, or lists of them; an optional
# filter is a list holding its value or nothing, so that its length makes the shape.


def _reachable(org_id, collection_ids, hidden_types, *, all_items: bool) -> QuerySet[Item]:
    """The org's items in these collections (all of them with `all_items`), less the item
    types a policy hides (none when `hidden_types` is empty)."""
    items = Item.objects.filter(org_id=org_id)
    if hidden_types:  # removed by a policy (e.g. cards)
        items = items.exclude(type__in=hidden_types)
    if not all_items:
        through = Item.collections.through.objects.filter(collection_id__in=collection_ids)
        items = items.filter(pk__in=through.values("item_id"))
    return items


def _collections_of_org(org_id, collection_ids, *, all_of_them: bool) -> QuerySet[Collection]:
    collections = Collection.objects.filter(org_id=org_id)
    if not all_of_them:
        collections = collections.filter(pk__in=collection_ids)
    return collections.order_by("name", "pk")


_VISIBLE_COLLECTIONS = PreparedQuery(_collections_of_org)


def _reach(access: VaultAccess) -> tuple[list[UUID], list[str], bool]:
    """The access as arguments: its collections (none listed when it reaches every item),
    the hidden item types, and whether it reaches every item."""
    if access.reaches_all_items:
        return [], sorted(access.hidden_item_types), True
    return list(access.collection_levels), sorted(access.hidden_item_types), False


def visible_collections(access: VaultAccess) -> list[Collection]:
    """The org's collections that reach the actor (all of them for "access all items")."""
    collection_ids, _hidden_types, all_of_them = _reach(access)
    return _VISIBLE_COLLECTIONS.fetch(access.org.pk, collection_ids, all_of_them=all_of_them)


def editable_collections(access: VaultAccess) -> list[Collection]:
    return [c for c in visible_collections(access) if access.can_add_to(c.pk)]


def items_reachable(access: VaultAccess) -> QuerySet[Item]:
    collection_ids, hidden_types, all_items = _reach(access)
    return _reachable(access.org.pk, collection_ids, hidden_types, all_items=all_items)


def _listed(
    org_id, collection_ids, hidden_types, in_collection, of_type, favorite_of, *, all_items, trash
) -> QuerySet[Item]:
    """What the list shows, unordered. `in_collection`, `of_type` and `favorite_of` (a
    user, whose favourites only are listed) each hold the one value to filter on, or none."""
    items = _reachable(org_id, collection_ids, hidden_types, all_items=all_items)
    items = items.filter(deleted_at__isnull=not trash)
    if in_collection:
        items = items.filter(collections__pk__in=in_collection)
    if of_type:
        items = items.filter(type__in=of_type)
    if favorite_of:
        favorites = Favorite.objects.filter(user_id__in=favorite_of).values("item_id")
        items = items.filter(pk__in=favorites)
    return items


def _listed_in_order(
    user_id, org_id, collection_ids, hidden_types, in_collection, of_type, favorite_of, **shape
) -> QuerySet[Item]:
    """The list in its order (`LIST_ORDER`), newest change first, without the (large,
    unneeded) bodies, each item with whether the user marked it a favourite."""
    listed = (org_id, collection_ids, hidden_types, in_collection, of_type, favorite_of)
    mine = Favorite.objects.filter(user_id=user_id, item_id=OuterRef("pk"))
    items = _listed(*listed, **shape).defer("data_ciphertext").annotate(is_favorite=Exists(mine))
    return items.order_by("-updated_at", "id")


# `_listed_in_order`'s order for portal.pagination: a page reached by Next or Previous
# starts at a row, read from the index `vault_item_live_order`.
LIST_ORDER = [Column("updated_at", descending=True), Column("id", descending=False)]


def _listed_page(
    user_id,
    org_id,
    collection_ids,
    hidden_types,
    in_collection,
    of_type,
    favorite_of,
    *,
    start: int,
    **shape,
) -> QuerySet[Item]:
    """A page of the list by its offset (the first pages, and pages asked for by number)."""
    listed = (org_id, collection_ids, hidden_types, in_collection, of_type, favorite_of)
    return _listed_in_order(user_id, *listed, **shape)[start : start + PAGE_SIZE]


def _listed_count(
    org_id, collection_ids, hidden_types, in_collection, of_type, favorite_of, **shape
) -> QuerySet[Item]:
    listed = (org_id, collection_ids, hidden_types, in_collection, of_type, favorite_of)
    return row_count(_listed(*listed, **shape))


_LISTED_PAGE = PreparedQuery(_listed_page)
_LISTED_COUNT = PreparedQuery(_listed_count)
# The offset of a page is a shape: pages past these build their query afresh.
_PREPARED_PAGES = 5


def _listing(access: VaultAccess, item_filter: ItemFilter) -> tuple[tuple, dict]:
    """The arguments and the shape of `_listed` for this access and these filters."""
    collection_ids, hidden_types, all_items = _reach(access)
    collection_id, item_type = item_filter.collection_id, item_filter.item_type
    listed = (
        access.org.pk,
        collection_ids,
        hidden_types,
        [collection_id] if collection_id is not None else [],
        [item_type] if item_type else [],
        [access.actor.user.pk] if item_filter.favorites else [],
    )
    return listed, {"all_items": all_items, "trash": item_filter.trash}


class _ListedItems:
    """The list as `Paginator` reads it: a count, and pages sliced in SQL."""

    def __init__(self, access: VaultAccess, item_filter: ItemFilter):
        self.user_id = access.actor.user.pk
        self.listed, self.shape = _listing(access, item_filter)

    def count(self) -> int:
        return _LISTED_COUNT.first(*self.listed, **self.shape) or 0

    def in_order(self) -> QuerySet[Item]:
        return _listed_in_order(self.user_id, *self.listed, **self.shape)

    def __getitem__(self, window: slice) -> list[Item]:
        start, stop = window.start or 0, window.stop
        if stop <= start:
            return []  # nothing to read (an empty list)
        if start < _PREPARED_PAGES * PAGE_SIZE:
            items = _LISTED_PAGE.fetch(self.user_id, *self.listed, start=start, **self.shape)
        else:
            items = list(_listed_page(self.user_id, *self.listed, start=start, **self.shape))
        return items[: stop - start]  # the last page ends where the count says


def item_list_page(
    *,
    access: VaultAccess,
    item_filter: ItemFilter,
    page_params: Mapping[str, str],
    keychain: KeyChain,
    collections: list[Collection],
) -> ItemListPage:
    """`collections`: the actor's `visible_collections`, which the rows name.
    `page_params`: the request's `page`, and `after` or `before` (portal.pagination)."""
    page_number = page_params.get("page")
    if item_filter.search.strip():
        items = _filtered(access, item_filter)
        return _searched_page(access, items, item_filter.search, page_number, keychain, collections)
    listed = _ListedItems(access, item_filter)
    paginator = ListPaginator(listed, PAGE_SIZE, order=LIST_ORDER, in_order=listed.in_order)
    tally = _tally_for(access, item_filter)
    if tally is not None:
        paginator.count = tally  # instead of counting the rows in SQL
    page = paginator.page_for(page_params)
    page_items = page.object_list
    names, failures = _names(access, page_items, keychain)
    rows = _rows(access, page_items, names, collections)
    return ItemListPage(page=page, rows=rows, failures=failures)


def _filtered(access: VaultAccess, item_filter: ItemFilter) -> QuerySet[Item]:
    """The items that a search looks through: those the filters select."""
    listed, shape = _listing(access, item_filter)
    return _listed(*listed, **shape)


def _tally_for(access: VaultAccess, item_filter: ItemFilter) -> int | None:
    """The count of what is listed when a tally holds exactly that (`vault.tallies`)."""
    if item_filter.trash or item_filter.favorites or item_filter.item_type:
        return None
    collection_id = item_filter.collection_id
    if collection_id is None and not access.reaches_all_items:
        if len(access.collection_levels) != 1:
            return None  # items in two of them would count twice
        (collection_id,) = access.collection_levels
    if collection_id is not None and not (
        access.reaches_all_items or collection_id in access.collection_levels
    ):
        return None
    if access.hidden_item_types and collection_id is not None:
        return None  # tallies count every type; a collection's hidden ones need a join
    tally = tallies.tallied(org_id=access.org.pk, collection_id=collection_id)
    if tally is None or not access.hidden_item_types:
        return tally
    # The org's: less its items of the types a policy hides (an index holds them apart).
    hidden = _HIDDEN_LIVE_COUNT.first(access.org.pk, sorted(access.hidden_item_types))
    return tally - hidden


def _live_of_types(org_id, types) -> QuerySet:
    live = Item.objects.filter(org_id=org_id, deleted_at__isnull=True, type__in=types)
    return row_count(live)


_HIDDEN_LIVE_COUNT = PreparedQuery(_live_of_types)


def _searched_page(access, items, search, page_number, keychain, collections) -> ItemListPage:
    term = search.strip().casefold()
    with _without_gc_pauses():
        matched, failures = _matches(access, items, term, keychain)
        # Ties in name are ordered by id, so that pages do not shuffle between requests.
        order = [(name.casefold(), key) for key, (_tag, name) in matched.items()]
        order.sort()
    page = Paginator([key for _folded, key in order], PAGE_SIZE).get_page(page_number)
    page_ids = [UUID(bytes=key) for key in page.object_list]
    found = _ITEMS_BY_ID.fetch(access.actor.user.pk, access.org.pk, page_ids)
    by_pk = {item.pk: item for item in found}
    page_items, names, to_open = [], {}, []
    for pk in page_ids:
        item = by_pk.get(pk)
        if item is None:
            continue
        tag, name = matched[pk.bytes]
        if tag is not None and tag != name_index.name_tag(item.name_ciphertext):
            to_open.append((pk, item.data_key_id, bytes(item.name_ciphertext)))
        else:
            names[pk] = name
        page_items.append(item)
    if to_open:  # entries the index holds for rows changed without it: the rows decide
        opened, unreadable = open_names(access, to_open, keychain)
        failures += unreadable
        names.update({pk: name for pk, name in opened.items() if term in name.casefold()})
        page_items = [i for i in page_items if i.pk in names or i.pk not in opened]
    rows = _rows(access, page_items, names, collections)
    return ItemListPage(page=page, rows=rows, failures=failures)


# Up to this many items whose indexed name matches are looked up by id, and each entry is
# checked against its row; past it (a search for "a" matches most of an org), the items
# the filters select are read by id only, and the entries of the page's rows are checked.
_MATCHES_BY_ID_MAX = 500


@contextmanager
def _without_gc_pauses():
    """Matching 30,000 names allocates some 100,000 short-lived objects, none in a cycle.

    Meanwhile Python's cycle collector would walk the whole heap several times, which
    measured as a third to a half of a search; reference counting frees them anyway.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _id_bytes(items: QuerySet[Item]) -> set[bytes]:
    """The ids of the selected items as 16 bytes each: on PostgreSQL sent as such
    (`uuid_send`), rather than as 30,000 UUID objects made only to be taken apart."""
    if connection.vendor == "postgresql":
        as_bytes = Func(F("pk"), function="uuid_send", output_field=BinaryField())
        return {bytes(key) for key in items.values_list(as_bytes, flat=True)}
    return {pk.bytes for pk in items.values_list("pk", flat=True)}


def _matches(access, items, term: str, keychain):
    """The items the filters (and so the access) select whose name contains `term`.

    By id bytes: (tag, name), where a tag not None is still to be checked against the
    row before the name is shown. The name index proposes the ids; SQL keeps those the
    member reaches. An entry counts only while its tag equals the item's name ciphertext;
    otherwise the item's own ciphertext is opened.
    """
    index = name_index.index_for_search(access=access, keychain=keychain)
    proposed = index.matching(term)
    if len(proposed) > _MATCHES_BY_ID_MAX:
        newest = proposed.newest
        reached = _id_bytes(items)
        return {key: newest[key] for key in newest.keys() & reached}, index.failures
    rows = items.filter(pk__in=[UUID(bytes=key) for key in proposed.newest]).values_list(
        "pk", "data_key_id", "name_ciphertext"
    )
    matched: dict[bytes, tuple[bytes | None, str]] = {}
    to_open: list[NameRow] = []
    for pk, data_key_id, blob in rows:
        name = proposed.name_for(pk.bytes, name_index.name_tag(blob))
        if name is not None:
            matched[pk.bytes] = (None, name)
        else:  # the entry that matched is outdated: the item's own name decides
            to_open.append((pk, data_key_id, bytes(blob)))
    opened, failures = open_names(access, to_open, keychain)
    matched.update(
        {pk.bytes: (None, name) for pk, name in opened.items() if term in name.casefold()}
    )
    return matched, index.failures + failures


def _items_by_id(user_id, org_id, item_ids) -> QuerySet[Item]:
    """Items of a searched page, as `_listed_page` reads them."""
    mine = Favorite.objects.filter(user_id=user_id, item_id=OuterRef("pk"))
    items = Item.objects.filter(org_id=org_id, pk__in=item_ids).defer("data_ciphertext")
    return items.annotate(is_favorite=Exists(mine)).order_by()


def _collection_ties(item_ids) -> QuerySet:
    """(item id, collection id) for each collection the items are in."""
    ties = Item.collections.through.objects.filter(item_id__in=item_ids)
    return ties.values_list("item_id", "collection_id")


_ITEMS_BY_ID = PreparedQuery(_items_by_id)
_COLLECTION_TIES = PreparedQuery(_collection_ties)


def _names(access, items: list[Item], keychain: KeyChain):
    rows = [(item.pk, item.data_key_id, item.name_ciphertext) for item in items]
    return open_names(access, rows, keychain)


def _rows(
    access: VaultAccess,
    items: list[Item],
    names: dict[UUID, str],
    collections: list[Collection],
) -> list[ItemRow]:
    """The page's rows. Items come with `is_favorite`; `collections` are the actor's
    `visible_collections`, in the order a row lists them."""
    ties: dict[UUID, list[UUID]] = {item.pk: [] for item in items}
    for item_id, collection_id in _COLLECTION_TIES.fetch([item.pk for item in items]):
        ties[item_id].append(collection_id)
    visible = {c.pk: n for n, c in enumerate(collections) if access.level_for([c.pk])}
    item_url = url_for_each("vault_item_detail", access.org.pk)
    zone = get_current_timezone()  # as the template's `date` filter shows times
    rows = []
    for item in items:
        seen = sorted(visible[pk] for pk in ties[item.pk] if pk in visible)
        rows.append(
            ItemRow(
                item=item,
                name=names.get(item.pk),
                level=access.level_for(ties[item.pk]),
                favorite=item.is_favorite,
                collections=[collections[n] for n in seen],
                url=item_url(item.pk),
                updated=f"{item.updated_at.astimezone(zone):%Y-%m-%d %H:%M}",
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
    favorite: bool | None = None  # read only when asked for (the item page)


def _item(org_id, item_id, *, keys: bool) -> QuerySet[Item]:
    items = Item.objects.filter(org_id=org_id, pk=item_id)
    if keys:  # the item's data key row and the org key row it is sealed to
        sealed_to = Q(org__vault_keys__version=F("data_key__org_key_version"))
        items = items.annotate(
            sealed_to_org_key=FilteredRelation("org__vault_keys", condition=sealed_to)
        ).select_related("data_key", "sealed_to_org_key")
    return items.order_by()[:1]  # by primary key: no ORDER BY


def _item_with_favorite(org_id, item_id, user_id, *, keys: bool) -> QuerySet[Item]:
    mine = Favorite.objects.filter(user_id=user_id, item_id=OuterRef("pk"))
    return _item(org_id, item_id, keys=keys).annotate(is_favorite=Exists(mine))


# Every item page reads these: prepared once per process (portal/prepared.py).
_ITEM = PreparedQuery(_item)
_ITEM_WITH_FAVORITE = PreparedQuery(_item_with_favorite)
_COLLECTIONS_OF_ITEM = PreparedQuery(
    lambda item_id: Collection.objects.filter(items=item_id).order_by("name")
)


def item_access(
    *,
    access: VaultAccess,
    item_id: UUID,
    keychain: KeyChain | None = None,
    with_favorite: bool = False,
) -> ItemAccess | None:
    """The item with a grant on it, or None (not in this org, or no collection reaches the actor).

    Callers answer 404 for None: the same page for items that do not exist. With a
    `keychain` (of the org), the item's data key row and the org key row it is sealed to
    come in the same query and are handed to it, so that opening the item asks nothing
    more; `with_favorite` reads whether the actor marked it a favourite, in that query too.
    """
    if with_favorite:
        found = _ITEM_WITH_FAVORITE.first(
            access.org.pk, item_id, access.actor.user.pk, keys=keychain is not None
        )
    else:
        found = _ITEM.first(access.org.pk, item_id, keys=keychain is not None)
    item = found
    if item is None or item.type in access.hidden_item_types:
        return None
    all_collections = _COLLECTIONS_OF_ITEM.fetch(item.pk)
    attach_prefetched(item, "collections", all_collections)
    grant = access.grant_item(
        org_id=item.org_id, item_id=item.pk, collection_ids=[c.pk for c in all_collections]
    )
    if grant is None:
        return None
    if keychain is not None:
        org_key = getattr(item, "sealed_to_org_key", None)
        keychain.adopt_rows(data_key=item.data_key, org_key=org_key)
    visible = [c for c in all_collections if access.level_for([c.pk])]
    favorite = item.is_favorite if with_favorite else None
    return ItemAccess(item=item, grant=grant, collections=visible, favorite=favorite)
