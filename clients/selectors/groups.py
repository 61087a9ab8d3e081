"""Reads on groups, always scoped by org."""

from __future__ import annotations

from django.db.models import CharField, F, QuerySet, Value

from ..models import CollectionGroupGrant, Group, Membership, Organization
from .collections import count_subquery


def group_list(*, org: Organization, search: str = "") -> QuerySet[Group]:
    # Counts as subqueries: joining members and grants at once would multiply the rows.
    groups = org.groups.annotate(
        member_count=count_subquery(Group.members.through.objects.all(), "group_id"),
        collection_count=count_subquery(CollectionGroupGrant.objects.all(), "group_id"),
    )
    if search:
        groups = groups.filter(name__icontains=search.strip())
    return groups.order_by("name", "pk")


def group_members(*, group: Group, search: str = "") -> QuerySet[Membership]:
    members = group.members.filter(org_id=group.org_id)
    if search:
        members = members.filter(email__icontains=search.strip())
    return members.order_by("email", "pk")


def group_collection_rows(*, group: Group) -> QuerySet:
    """The group's grants as dicts (principal = collection id, label = its name, level)."""
    return (
        CollectionGroupGrant.objects.filter(group=group, collection__org_id=group.org_id)
        .annotate(
            kind=Value("collection", output_field=CharField()),
            principal=F("collection_id"),
            label=F("collection__name"),
        )
        .values("kind", "principal", "label", "level")
        .order_by("label", "principal")
    )
