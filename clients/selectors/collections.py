"""Reads on collections, always scoped by org."""

from __future__ import annotations

from collections.abc import Collection as Ids
from uuid import UUID

from django.db.models import CharField, Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from vault.models import Item

from ..models import (
    Collection,
    CollectionGroupGrant,
    CollectionMemberGrant,
    Organization,
)


def count_subquery(queryset: QuerySet, field: str) -> Coalesce:
    """A per-row count as a subquery, so that counts of several relations never multiply."""
    counted = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _item_count() -> Coalesce:
    """Items in the collection, the trash left out. Counts only: no item data."""
    through = Item.collections.through.objects.filter(item__deleted_at__isnull=True)
    return count_subquery(through, "collection_id")


def nested_sort_key(name: str) -> tuple[str, ...]:
    """Sorts "Finance/Banking" right after "Finance" (plain order puts "Finance A" between)."""
    return tuple(part.casefold() for part in name.split("/"))


def collection_list(
    *, org: Organization, search: str = "", only: Ids[UUID] | None = None
) -> QuerySet[Collection]:
    """The org's collections with their counts; `only` limits them to these ids."""
    collections = org.collections.annotate(
        member_grant_count=count_subquery(CollectionMemberGrant.objects.all(), "collection_id"),
        group_grant_count=count_subquery(CollectionGroupGrant.objects.all(), "collection_id"),
        item_count=_item_count(),
    )
    if only is not None:
        collections = collections.filter(pk__in=list(only))
    if search:
        collections = collections.filter(name__icontains=search.strip())
    return collections.order_by("name", "pk")


def collection_ids_nested(collections: QuerySet[Collection]) -> list[UUID]:
    """The ids in nested order (children follow their parent), read as (id, name) pairs."""
    pairs = collections.order_by().values_list("pk", "name")
    return [pk for pk, name in sorted(pairs, key=lambda pair: (nested_sort_key(pair[1]), pair[0]))]


def collections_by_ids(*, org: Organization, ids: list[UUID]) -> list[Collection]:
    """One page of `collection_list`, in the order of `ids`."""
    by_pk = {c.pk: c for c in collection_list(org=org, only=ids)}
    return [by_pk[pk] for pk in ids if pk in by_pk]


def items_to_move_count(*, collection: Collection) -> int:
    """Items that are in this collection only: deleting it moves them to the default one."""
    return items_only_in(collection).count()


def items_only_in(collection: Collection) -> QuerySet[Item]:
    """Items of the collection in no other collection (the trash included)."""
    through = Item.collections.through.objects
    elsewhere = through.filter(item_id=OuterRef("pk")).exclude(collection_id=collection.pk)
    return Item.objects.filter(org_id=collection.org_id, collections=collection).exclude(
        pk__in=Subquery(elsewhere.values("item_id"))
    )


ACCESS_MEMBER = "member"
ACCESS_GROUP = "group"


def collection_access_rows(*, collection: Collection) -> QuerySet:
    """Members and groups with access, as dicts (kind, principal, label, level): one query.

    Members come by email, groups by name; groups first, each kind in name order.
    """
    groups = (
        CollectionGroupGrant.objects.filter(collection=collection)
        .annotate(
            kind=Value(ACCESS_GROUP, output_field=CharField()),
            principal=F("group_id"),
            label=F("group__name"),
        )
        .values("kind", "principal", "label", "level")
    )
    members = (
        CollectionMemberGrant.objects.filter(collection=collection)
        .annotate(
            kind=Value(ACCESS_MEMBER, output_field=CharField()),
            principal=F("membership_id"),
            label=F("membership__email"),
        )
        .values("kind", "principal", "label", "level")
    )
    return groups.union(members, all=True).order_by("kind", "label", "principal")


def collection_choices(*, org: Organization, only: Ids[UUID] | None = None):
    """(id, name) of the org's collections, `only` these ids when given, nested order."""
    collections = org.collections.all()
    if only is not None:
        collections = collections.filter(pk__in=list(only))
    pairs = collections.values_list("pk", "name")
    return sorted(pairs, key=lambda pair: (nested_sort_key(pair[1]), pair[0]))
