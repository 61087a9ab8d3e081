"""Account-level writes: invitations and their tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import Invitation

INVITATION_LIFETIME = timedelta(days=5)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(
    *, email: str, invited_by=None, membership=None, provider_user=None
) -> Invitation:
    """Create the invitation row and queue its email once the transaction commits."""
    from .tasks import send_invitation

    invitation = Invitation.objects.create(
        email=email.lower(),
        membership=membership,
        provider_user=provider_user,
        invited_by=invited_by,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    transaction.on_commit(lambda: send_invitation.delay(str(invitation.pk)))
    return invitation


def invitation_issue_token(*, invitation: Invitation) -> str:
    """A fresh 256-bit token; only its hash is stored, and any earlier token stops working."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
    invitation.expires_at = timezone.now() + INVITATION_LIFETIME
    invitation.save(update_fields=["token_hash", "expires_at"])
    return token


def invitation_find(token: str) -> Invitation | None:
    """The invitation a token opens, usable or not; None for an unknown token."""
    if not token or len(token) > 128:
        return None
    return (
        Invitation.objects.select_related("membership__org", "provider_user__provider")
        .filter(token_hash=hash_token(token))
        .first()
    )


def invitation_mark_used(*, invitation: Invitation) -> bool:
    """Use the invitation once. Returns False if it was already used or has expired."""
    updated = Invitation.objects.filter(
        pk=invitation.pk, used_at__isnull=True, expires_at__gt=timezone.now()
    ).update(used_at=timezone.now())
    return updated == 1


class InvitationError(Exception):
    """An invitation that cannot be accepted; the message says why and what to do."""


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> None:
    """Accept on behalf of `user`, whose email must be the invited one.

    An owner invited into an org that has no confirmed owner yet (a new client)
    is confirmed at once: nobody else could confirm them. Everyone else waits for
    an admin's confirmation.
    """
    from clients.models import Membership, MemberStatus
    from providers.models import ProviderUserStatus

    from . import access
    from .events import record_event
    from .models import EventType

    if user.email.lower() != invitation.email.lower():
        raise InvitationError(
            f"This invitation is for {invitation.email}, but you are signed in as {user.email}. "
            "Sign out and open the link again."
        )
    if not invitation_mark_used(invitation=invitation):
        raise InvitationError(
            "This invitation has already been used or has expired. Ask for a new one."
        )
    if invitation.membership_id:
        membership = Membership.objects.select_for_update().get(pk=invitation.membership_id)
        if membership.status != MemberStatus.INVITED:
            raise InvitationError("This invitation is no longer pending.")
        first_owner = access.is_first_owner(membership)
        membership.user = user
        membership.status = MemberStatus.CONFIRMED if first_owner else MemberStatus.ACCEPTED
        membership.save(update_fields=["user", "status"])
        record_event(EventType.MEMBER_ACCEPTED, user=user, org=membership.org, obj=membership)
        if first_owner:
            record_event(EventType.MEMBER_CONFIRMED, user=user, org=membership.org, obj=membership)
    else:
        provider_user = invitation.provider_user
        if provider_user.status != ProviderUserStatus.INVITED:
            raise InvitationError("This invitation is no longer pending.")
        provider_user.user = user
        provider_user.status = ProviderUserStatus.ACCEPTED
        provider_user.save(update_fields=["user", "status"])
        record_event(
            EventType.PROVIDER_USER_ACCEPTED,
            user=user,
            provider=provider_user.provider,
            obj=provider_user,
        )


# --- Two-step login (TOTP authenticator apps, through django-otp) -------------------------

TWO_STEP_DEVICE_NAME = "Authenticator app"


def two_step_begin(*, user):
    """The unconfirmed authenticator whose key the setup page shows (one per user)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(
        user=user, name=TWO_STEP_DEVICE_NAME, confirmed=False
    )


@transaction.atomic
def two_step_confirm(*, user, device, token: str) -> bool:
    """Turn two-step login on once the app shows a right code. False for a wrong code."""
    from .events import record_event
    from .models import EventType

    if device.user_id != user.pk or device.confirmed or not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_event(EventType.USER_TWO_STEP_ENABLED, user=user, obj=user)
    return True


@transaction.atomic
def two_step_disable(*, user) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .events import record_event
    from .models import EventType

    TOTPDevice.objects.filter(user=user).delete()
    record_event(EventType.USER_TWO_STEP_DISABLED, user=user, obj=user)
