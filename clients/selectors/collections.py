"""Reads on collections, always scoped by org."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from ..models import Collection, Organization


def collection_list(*, org: Organization, search: str = "") -> QuerySet[Collection]:
    collections = org.collections.annotate(
        member_grant_count=Count("member_grants", distinct=True),
        group_grant_count=Count("group_grants", distinct=True),
    )
    if search:
        collections = collections.filter(name__icontains=search.strip())
    return collections.order_by("name", "pk")
