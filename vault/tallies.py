"""Counts of the items out of the trash, per org and per collection, kept by the writers.

The vault list shows how many items a member's view holds. Counting them in SQL reads
one row (or index entry) per item the member reaches: 30,000 for a large org. A tally
is one row, changed by the services that change what it counts, in their transaction:

- `item_create` (+1), `item_trash` (-1), `item_restore` (+1), `item_move` (the
  collections it left and joined, for an item out of the trash), an import (its items,
  per collection), and `clients.services.collections.collection_delete` (the items moved
  to the default collection; the deleted collection's tally goes with it). Deleting for
  good only ever deletes items from the trash, which no tally counts.
- A tally row that does not exist yet (an org or collection older than the tallies) is
  created by the first write that needs it, from a count in SQL taken in that write's
  transaction, so the count includes the write itself.

A list uses a tally only when it is exactly what is listed: an owner or admin who
reaches every item, or a member whose whole reach is one collection (or who filters on
a collection they reach), with no other filter. Where a policy hides an item type
(cards), an owner's or admin's list takes the org's tally less a count of that type's
items (on the index `vault_item_live_type`); a member's is counted in SQL. Anything else
is counted in SQL, on the rows of the member's own collections.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet

from portal.prepared import PreparedQuery

from .models import Item, ItemTally


def tally_change(*, org_id: UUID, collection_ids: Iterable[UUID], delta: int, org: bool = True):
    """Add `delta` to the org's tally (unless `org` is False) and to each collection's.

    Call it in the transaction that made the change, after making it.
    """
    if delta == 0:
        return
    targets: list[UUID | None] = [None] if org else []
    targets += sorted(set(collection_ids))  # one order for every writer: no deadlock
    for collection_id in targets:
        _bump(org_id, collection_id, delta)


def tally_items_added(
    *,
    org_id: UUID,
    per_collection: dict[UUID, int],
    total: int,
    counted_before: dict[UUID, int] | None = None,
) -> None:
    """Items just written out of the trash (an import's): `per_collection` of them in
    each collection, `total` in all. `counted_before` holds, for collections counted
    before the items were written (0 for one the import created), the live items then:
    a collection without a tally row starts from it instead of a count in SQL, which
    right after a bulk write the planner misjudges (its statistics do not yet show the
    rows, and a join over them can take minutes)."""
    counted_before = counted_before or {}
    if total:
        _bump(org_id, None, total)
    for collection_id in sorted(per_collection):
        delta = per_collection[collection_id]
        _bump(org_id, collection_id, delta, before=counted_before.get(collection_id))


def live_items_in(*, org_id: UUID, collection_id: UUID) -> int:
    """The collection's items out of the trash, counted now (for `counted_before`)."""
    return _counted(org_id, collection_id)


def tally_items_moved_to(*, org_id: UUID, collection_id: UUID, item_ids: list[UUID]) -> None:
    """Items just added to one collection (a deleted collection's, into the default one)."""
    live = Item.objects.filter(org_id=org_id, pk__in=item_ids, deleted_at__isnull=True).count()
    tally_change(org_id=org_id, collection_ids=[collection_id], delta=live, org=False)


def _bump(org_id: UUID, collection_id: UUID | None, delta: int, before: int | None = None):
    rows = ItemTally.objects.filter(org_id=org_id, collection_id=collection_id)
    if rows.update(live=F("live") + delta):
        return
    live = before + delta if before is not None else _counted(org_id, collection_id)
    try:
        with transaction.atomic():  # a savepoint: a concurrent first write may win the insert
            ItemTally.objects.create(org_id=org_id, collection_id=collection_id, live=live)
    except IntegrityError:
        rows.update(live=F("live") + delta)  # the winner's count did not include this write


def _counted(org_id: UUID, collection_id: UUID | None) -> int:
    items = Item.objects.filter(org_id=org_id, deleted_at__isnull=True)
    if collection_id is not None:
        items = items.filter(collections__pk=collection_id)
    return items.count()


def _tally(org_id, collection_ids) -> QuerySet[ItemTally]:
    """The org's tally (`collection_ids` empty) or the one collection's."""
    if collection_ids:
        rows = ItemTally.objects.filter(org_id=org_id, collection_id__in=collection_ids)
    else:
        rows = ItemTally.objects.filter(org_id=org_id, collection_id__isnull=True)
    return rows.order_by("pk").values_list("live", flat=True)[:1]


# Every page of the vault list reads one: prepared once per process (portal/prepared.py).
_TALLY = PreparedQuery(_tally)


def tallied(*, org_id: UUID, collection_id: UUID | None) -> int | None:
    """The tally, or None when it does not exist yet."""
    return _TALLY.first(org_id, [] if collection_id is None else [collection_id])
