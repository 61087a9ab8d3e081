"""Require two-step login: members without it cannot be in the org (owners and admins exempt)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.models import MemberStatus
from portal.access import PolicyExemption
from portal.selectors import two_step_device

from ..models import PolicyType
from .base import PolicyRefusal, PolicyTypeBase


def _has_two_step():
    return Exists(TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True))


class TwoStepLoginPolicy(PolicyTypeBase):
    key = PolicyType.TWO_STEP_LOGIN
    title = "Require two-step login"
    description = (
        "Members must turn on two-step login for their account. Switching this on revokes "
        "members who have not (they are emailed why); they cannot accept an invitation, be "
        "confirmed or be restored until they turn it on, and a member who turns it off is "
        "revoked."
    )
    exemption = PolicyExemption.OWNERS_AND_ADMINS
    applies_to = "Every member except owners and admins."
    revocation_reason = (
        "it requires two-step login and your account does not have it on. Turn on two-step "
        "login, then ask an administrator of the organization to restore you."
    )
    remedy_url_name = "two_step"
    remedy_label = "Turn on two-step login"

    def switched_on(self, *, policy, actor) -> str:
        from ..services import members_revoke_for_policy

        members = policy.org.memberships.filter(
            status__in=[MemberStatus.ACCEPTED, MemberStatus.CONFIRMED], user__isnull=False
        ).filter(~_has_two_step())
        revoked = members_revoke_for_policy(
            members=[m for m in members if not self.is_exempt(m)],
            policy_type=self,
            user=actor.user,
            acting_provider=actor.acting_provider,
        )
        if not revoked:
            return ""
        return f"{revoked} member{'s' if revoked != 1 else ''} without two-step login revoked."

    def member_joining(self, *, policy, membership, user) -> None:
        if user is None or self.is_exempt(membership) or two_step_device(user) is not None:
            return
        if membership.status == MemberStatus.INVITED:  # the member is accepting
            raise PolicyRefusal(
                f"{policy.org.name} requires two-step login. Turn it on for your account, "
                "then accept the invitation.",
                remedy_url_name=self.remedy_url_name,
            )
        raise PolicyRefusal(
            f"{policy.org.name} requires two-step login: {membership.email} must turn it on first."
        )

    def two_step_turned_off(self, *, policy, membership) -> bool:
        from ..services import members_revoke_for_policy

        if self.is_exempt(membership):
            return False
        return bool(
            members_revoke_for_policy(
                members=[membership], policy_type=self, user=membership.user, acting_provider=None
            )
        )
