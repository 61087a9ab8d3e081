"""Reads on memberships, always scoped by org."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from ..models import CollectionMemberGrant, MemberRole, Membership, MemberStatus, Organization
from .collections import count_subquery


def member_list(
    *, org: Organization, search: str = "", status: str = "", role: str = ""
) -> QuerySet[Membership]:
    """The org's members matching the search and filters, in the list's order.

    Plain rows, so that counting them and choosing a page's rows is an index walk over
    memberships (`(org, email)` is unique and indexed), however many groups and grants
    there are; `member_rows` then adds what the list shows for one page's rows only."""
    members = org.memberships.all()
    if search:
        term = search.strip()
        members = members.filter(Q(email__icontains=term) | Q(user__name__icontains=term))
    if status:
        members = members.filter(status=status)
    if role:
        members = members.filter(role=role)
    return members.order_by("email", "pk")


def member_rows(*, members: QuerySet[Membership] | list[Membership]) -> QuerySet[Membership]:
    """`members` (a page of `member_list`, sliced) with their account, group and direct
    collection counts, two-step state and expired invitation: one query, whose
    per-member subqueries run for the page's rows only."""
    if not isinstance(members, QuerySet):  # a page read from a row on (portal.pagination)
        members = [member.pk for member in members]
    return (
        Membership.objects.filter(pk__in=members)
        .select_related("user")
        .annotate(
            group_count=count_subquery(Membership.groups.through.objects.all(), "membership_id"),
            collection_count=count_subquery(CollectionMemberGrant.objects.all(), "membership_id"),
            # An invited member whose every link has expired: "expired", to be resent.
            invitation_expired=Q(status=MemberStatus.INVITED) & ~Exists(_live_invitations()),
            two_step_on=Exists(_confirmed_authenticators()),
        )
        .order_by("email", "pk")
    )


def _confirmed_authenticators():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)


def _live_invitations():
    from django.utils import timezone

    from portal.models import Invitation

    return Invitation.objects.filter(
        membership=OuterRef("pk"), used_at__isnull=True, expires_at__gt=timezone.now()
    )


def confirmed_owners(*, org: Organization) -> QuerySet[Membership]:
    """The rows the rule "every org keeps a confirmed owner" is checked against."""
    return Membership.objects.filter(org=org, role=MemberRole.OWNER, status=MemberStatus.CONFIRMED)


def member_access(*, membership: Membership) -> dict:
    """A member's groups and direct collection levels, as the edit form's initial values."""
    grants = CollectionMemberGrant.objects.filter(
        membership=membership, collection__org_id=membership.org_id
    ).values_list("collection_id", "level")
    return {
        "role": membership.role,
        "flags": sorted(membership.custom_flags),
        "groups": list(membership.groups.filter(org_id=membership.org_id)),
        "collection_levels": dict(grants),
    }
