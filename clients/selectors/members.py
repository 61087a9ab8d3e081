"""Reads on memberships, always scoped by org."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from ..models import Membership, Organization


def member_list(*, org: Organization, search: str = "") -> QuerySet[Membership]:
    members = org.memberships.select_related("user").annotate(group_count=Count("groups"))
    if search:
        term = search.strip()
        members = members.filter(Q(email__icontains=term) | Q(user__name__icontains=term))
    return members.order_by("email", "pk")
