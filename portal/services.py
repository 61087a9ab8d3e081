"""Account-level writes: invitations and their tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import Invitation

INVITATION_LIFETIME = timedelta(days=5)
# One reminder to those who have not accepted, this long after the invitation email.
INVITATION_REMINDER_AFTER = timedelta(days=3)


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


def invitation_issue_token(*, invitation: Invitation, keep_expiry: bool = False) -> str:
    """A fresh 256-bit token; only its hash is stored, and any earlier token stops working.
    The invitation lives INVITATION_LIFETIME from now, unless `keep_expiry` (a reminder)."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
    fields = ["token_hash"]
    if not keep_expiry:
        # A new life (a first email or a resend), with its own reminder to come.
        invitation.expires_at = timezone.now() + INVITATION_LIFETIME
        invitation.reminded_at = None
        fields += ["expires_at", "reminded_at"]
    invitation.save(update_fields=fields)
    return token


def invitation_find(token: str) -> Invitation | None:
    """The invitation a token opens, usable or not; None for an unknown token."""
    if not token or len(token) > 128:
        return None
    return invitation_find_by_token_hash(hash_token(token))


def invitation_find_by_token_hash(token_hash: str) -> Invitation | None:
    """As invitation_find, from the hash that the session keeps instead of the token."""
    if not token_hash:
        return None
    return (
        Invitation.objects.select_related("membership__org", "provider_user__provider")
        .filter(token_hash=token_hash)
        .first()
    )


def invitation_mark_used(*, invitation: Invitation) -> bool:
    """Use the invitation once. Returns False if it was already used or has expired."""
    updated = Invitation.objects.filter(
        pk=invitation.pk, used_at__isnull=True, expires_at__gt=timezone.now()
    ).update(used_at=timezone.now())
    return updated == 1


def invitations_due_a_reminder():
    """Invitations emailed at least INVITATION_REMINDER_AFTER ago, still unused and unexpired,
    whose invitee is still only invited, and not reminded yet. A token's email went out when
    it was issued, which set `expires_at` to then + INVITATION_LIFETIME."""
    from django.db.models import Q

    from clients.models import MemberStatus
    from providers.models import ProviderUserStatus

    now = timezone.now()
    sent_before = now - INVITATION_REMINDER_AFTER
    return Invitation.objects.filter(
        Q(membership__status=MemberStatus.INVITED)
        | Q(provider_user__status=ProviderUserStatus.INVITED),
        token_hash__isnull=False,
        used_at__isnull=True,
        reminded_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=sent_before + INVITATION_LIFETIME,
    )


def invitation_claim_reminder(*, invitation_id) -> bool:
    """Mark the invitation reminded; False when it already was (or is no longer due), so
    two runs of the job, or two workers, never send the reminder twice."""
    if not invitations_due_a_reminder().filter(pk=invitation_id).exists():
        return False
    # A plain conditional UPDATE: a concurrent claim waits for the row and then finds
    # reminded_at set, so exactly one claim wins.
    claimed = Invitation.objects.filter(pk=invitation_id, reminded_at__isnull=True).update(
        reminded_at=timezone.now()
    )
    return claimed == 1


class InvitationError(Exception):
    """An invitation that cannot be accepted; the message says why and what to do."""


def wrong_account_message(user) -> str:
    # Never the invited address: whoever holds the link may not be the person invited.
    return (
        "This invitation was sent to another email address than the one you are signed in "
        f"with ({user.email}). Sign out, then open the link from the email again."
    )


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
        raise InvitationError(wrong_account_message(user))
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


@transaction.atomic
def two_step_enable(*, user, key: str, token: str):
    """Turn two-step login on with the key the setup page showed, once its code is right.

    The setup page writes nothing (its key travels signed in the page); this creates the
    one confirmed authenticator. None when the code is wrong, or two-step login is on.
    """
    from django.contrib.auth import get_user_model
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .events import record_event
    from .models import EventType

    get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)  # one at a time
    devices = TOTPDevice.objects.filter(user=user)
    if devices.filter(confirmed=True).exists():
        return None
    device = TOTPDevice(user=user, name=TWO_STEP_DEVICE_NAME, key=key, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not (token.isascii() and token.isdigit()) or not totp.verify(int(token), device.tolerance):
        return None
    device.last_t = totp.t()  # the code just used cannot also sign in
    devices.delete()  # unconfirmed rows that earlier versions of the setup page wrote
    device.save()
    record_event(EventType.USER_TWO_STEP_ENABLED, user=user, obj=user)
    return device


@transaction.atomic
def two_step_disable(*, user) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .events import record_event
    from .models import EventType

    TOTPDevice.objects.filter(user=user).delete()
    record_event(EventType.USER_TWO_STEP_DISABLED, user=user, obj=user)
