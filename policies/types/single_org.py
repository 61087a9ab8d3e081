"""Single organization: members of this org may belong to no other (owners and admins exempt)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from clients.models import Membership, MemberStatus
from portal.access import PolicyExemption

from ..models import PolicyType
from .base import PolicyRefusal, PolicyTypeBase

ACTIVE = [MemberStatus.ACCEPTED, MemberStatus.CONFIRMED]


def _active_elsewhere(user, *, besides: Membership):
    return Membership.objects.filter(user=user, status__in=ACTIVE).exclude(pk=besides.pk)


class SingleOrgPolicy(PolicyTypeBase):
    key = PolicyType.SINGLE_ORG
    title = "Single organization"
    description = (
        "Members may not belong to any other organization. Switching this on revokes "
        "members who do (they are emailed why); joining a second organization is refused."
    )
    exemption = PolicyExemption.OWNERS_AND_ADMINS
    applies_to = "Every member except owners and admins."
    revocation_reason = (
        "it allows its members no other organization, and you belong to another. Leave "
        "the other organization, then ask an administrator to restore you."
    )

    def switched_on(self, *, policy, actor) -> str:
        from ..services import members_revoke_for_policy

        elsewhere = Membership.objects.filter(
            user_id=OuterRef("user_id"), status__in=ACTIVE
        ).exclude(org_id=policy.org_id)
        members = policy.org.memberships.filter(status__in=ACTIVE, user__isnull=False).filter(
            Exists(elsewhere)
        )
        revoked = members_revoke_for_policy(
            members=[m for m in members if not self.is_exempt(m)],
            policy_type=self,
            user=actor.user,
            acting_provider=actor.acting_provider,
        )
        if not revoked:
            return ""
        plural = "s" if revoked != 1 else ""
        return f"{revoked} member{plural} of another organization revoked."

    def member_joining(self, *, policy, membership, user) -> None:
        """Joining this org while in another."""
        if user is None or self.is_exempt(membership):
            return
        other = _active_elsewhere(user, besides=membership).select_related("org").first()
        if other is None:
            return
        who = (
            "you belong"
            if membership.status == MemberStatus.INVITED
            else (f"{membership.email} belongs")
        )
        raise PolicyRefusal(
            f"{policy.org.name} allows its members no other organization, and {who} to "
            f"{other.org.name}. Leave {other.org.name} first."
        )

    def member_joining_elsewhere(self, *, policy, own_membership, membership, user) -> None:
        """A member of this org joining another one."""
        if self.is_exempt(own_membership):
            return
        who = "you are" if membership.status == MemberStatus.INVITED else (f"{membership.email} is")
        raise PolicyRefusal(
            f"{policy.org.name} allows its members no other organization, and {who} a member "
            f"of {policy.org.name}."
        )
