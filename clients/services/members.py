"""Writes on memberships: invitations, confirmation, roles, revocation, removal."""

from __future__ import annotations

from django.db import transaction

from ..models import (
    MemberRole,
    Membership,
    MemberStatus,
    Organization,
)


@transaction.atomic
def membership_add_confirmed(
    *, org: Organization, user, role: str = MemberRole.USER, **custom_flags: bool
) -> Membership:
    """Add an existing account as a confirmed member (operators and seeding)."""
    membership, _ = Membership.objects.update_or_create(
        org=org,
        email=user.email,
        defaults={"user": user, "role": role, "status": MemberStatus.CONFIRMED, **custom_flags},
    )
    return membership
