"""Reads on memberships, always scoped by org."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from ..models import CollectionMemberGrant, MemberRole, Membership, MemberStatus, Organization


def member_list(
    *, org: Organization, search: str = "", status: str = "", role: str = ""
) -> QuerySet[Membership]:
    """The org's members with their group and direct collection counts, one query a page."""
    members = org.memberships.select_related("user").annotate(
        group_count=Count("groups", distinct=True),
        collection_count=Count("collection_grants", distinct=True),
        # An invited member whose every link has expired: "expired", to be resent.
        invitation_expired=Q(status=MemberStatus.INVITED) & ~Exists(_live_invitations()),
        two_step_on=Exists(_confirmed_authenticators()),
    )
    if search:
        term = search.strip()
        members = members.filter(Q(email__icontains=term) | Q(user__name__icontains=term))
    if status:
        members = members.filter(status=status)
    if role:
        members = members.filter(role=role)
    return members.order_by("email", "pk")


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
