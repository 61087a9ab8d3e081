"""Reads on client organizations, always scoped by org."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .models import Collection, Group, MemberStatus, Membership, Organization


def org_list_for_user(user) -> QuerySet[Organization]:
    """Orgs where the user is a confirmed member."""
    return Organization.objects.filter(
        memberships__user=user, memberships__status=MemberStatus.CONFIRMED
    ).order_by("name")


def member_list(*, org: Organization, search: str = "") -> QuerySet[Membership]:
    members = org.memberships.select_related("user").annotate(group_count=Count("groups"))
    if search:
        term = search.strip()
        members = members.filter(Q(email__icontains=term) | Q(user__name__icontains=term))
    return members.order_by("email", "pk")


def member_counts(*, org: Organization) -> dict[str, int]:
    rows = org.memberships.values("status").annotate(n=Count("pk"))
    counts = {status: 0 for status in MemberStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def seats_used(*, org: Organization) -> int:
    return org.memberships.exclude(status=MemberStatus.REVOKED).count()


def group_list(*, org: Organization, search: str = "") -> QuerySet[Group]:
    groups = org.groups.annotate(
        member_count=Count("members", distinct=True),
        collection_count=Count("collection_grants", distinct=True),
    )
    if search:
        groups = groups.filter(name__icontains=search.strip())
    return groups.order_by("name", "pk")


def collection_list(*, org: Organization, search: str = "") -> QuerySet[Collection]:
    collections = org.collections.annotate(
        member_grant_count=Count("member_grants", distinct=True),
        group_grant_count=Count("group_grants", distinct=True),
    )
    if search:
        collections = collections.filter(name__icontains=search.strip())
    return collections.order_by("name", "pk")
