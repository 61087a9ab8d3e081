"""Reads on groups, always scoped by org."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from ..models import Group, Organization


def group_list(*, org: Organization, search: str = "") -> QuerySet[Group]:
    groups = org.groups.annotate(
        member_count=Count("members", distinct=True),
        collection_count=Count("collection_grants", distinct=True),
    )
    if search:
        groups = groups.filter(name__icontains=search.strip())
    return groups.order_by("name", "pk")
