"""Account-level writes: invitations and their tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import Invitation

INVITATION_LIFETIME = timedelta(days=5)
# How many people one invite form may invite at once (members and provider users alike).
MAX_INVITATIONS_AT_ONCE = 20
# One reminder to those who have not accepted, this long after the invitation email.
INVITATION_REMINDER_AFTER = timedelta(days=3)
# How many expired invitations the expiry job records in one transaction.
INVITATION_EXPIRY_BATCH = 500


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
        # A new life (a first email or a resend), with its own reminder and expiry to come.
        invitation.expires_at = timezone.now() + INVITATION_LIFETIME
        invitation.reminded_at = None
        invitation.expiry_recorded_at = None
        fields += ["expires_at", "reminded_at", "expiry_recorded_at"]
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


def invitations_expired_unrecorded():
    """Unused invitations past their expiry, whose invitee is still only invited, and
    whose expiry is not in the log yet (a resend gives the invitation a new life)."""
    from django.db.models import Q

    from clients.models import MemberStatus
    from providers.models import ProviderUserStatus

    return Invitation.objects.filter(
        Q(membership__status=MemberStatus.INVITED)
        | Q(provider_user__status=ProviderUserStatus.INVITED),
        used_at__isnull=True,
        expiry_recorded_at__isnull=True,
        expires_at__lte=timezone.now(),
    )


def invitations_record_expiry(*, batch_size: int = INVITATION_EXPIRY_BATCH) -> int:
    """Write one "invitation expired" event per invitation that expired unused, in the log
    of the org (member) or provider (provider user) it was for; returns how many.

    A batch at a time, each in a transaction of its own that marks its invitations
    recorded, so a second run (or a second worker) records none of them again: rows that
    another run holds are skipped, not waited for. The link keeps failing as it did
    ("expired"), and a resend works as before.
    """
    recorded = 0
    while True:
        with transaction.atomic():
            batch = list(
                invitations_expired_unrecorded()
                .select_related("membership__org", "provider_user__provider")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("expires_at", "pk")[:batch_size]
            )
            for invitation in batch:
                _record_expiry(invitation)
            Invitation.objects.filter(pk__in=[i.pk for i in batch]).update(
                expiry_recorded_at=timezone.now()
            )
        recorded += len(batch)
        if len(batch) < batch_size:
            return recorded


def _record_expiry(invitation: Invitation) -> None:
    """The event, by nobody (the log shows "system"), naming the invitee as the invite did."""
    from .events import record_event
    from .models import EventType

    expired_at = invitation.expires_at.isoformat()
    if invitation.membership_id:
        membership = invitation.membership
        record_event(
            EventType.MEMBER_INVITATION_EXPIRED,
            org=membership.org,
            obj=membership,
            details={"email": membership.email, "expired_at": expired_at},
        )
    else:
        provider_user = invitation.provider_user
        record_event(
            EventType.PROVIDER_USER_INVITATION_EXPIRED,
            provider=provider_user.provider,
            obj=provider_user,
            details={"email": provider_user.email, "expired_at": expired_at},
        )


class InvitationError(Exception):
    """An invitation that cannot be accepted; the message says why and what to do, and
    `remedy_url_name` the account page that fixes it (an org policy's requirement)."""

    def __init__(self, message: str, *, remedy_url_name: str | None = None):
        super().__init__(message)
        self.remedy_url_name = remedy_url_name


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
    from policies.services import PolicyRefusal, member_join_check
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
        try:
            member_join_check(membership=membership, user=user)
        except PolicyRefusal as refusal:
            raise InvitationError(str(refusal), remedy_url_name=refusal.remedy_url_name) from None
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


@dataclass(frozen=True)
class TwoStepEnabled:
    device: object
    recovery_codes: list[str]  # shown once, on the page that turned it on


@transaction.atomic
def two_step_enable(*, user, key: str, token: str) -> TwoStepEnabled | None:
    """Turn two-step login on with the key the setup page showed, once its code is right.

    The setup page writes nothing (its key travels signed in the page); this creates the
    one confirmed authenticator and a fresh set of recovery codes. None when the code is
    wrong, or two-step login is on.
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
    codes = _recovery_codes_replace(user)
    record_event(EventType.USER_TWO_STEP_ENABLED, user=user, obj=user)
    return TwoStepEnabled(device=device, recovery_codes=codes)


def _recovery_codes_replace(user) -> list[str]:
    """A new set of one-time recovery codes; the old set stops working."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    from .two_step import RECOVERY_CODE_COUNT, RECOVERY_DEVICE_NAME, new_recovery_code

    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    """Replace the user's recovery codes (the view has checked a current code)."""
    from django.contrib.auth import get_user_model

    from .events import record_event
    from .models import EventType
    from .selectors import two_step_device

    get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
    if two_step_device(user) is None:
        raise TwoStepError("Turn on two-step login first: recovery codes come with it.")
    codes = _recovery_codes_replace(user)
    record_event(EventType.USER_RECOVERY_CODES_REGENERATED, user=user, obj=user)
    return codes


def recovery_code_use(*, user, code: str):
    """Spend one recovery code at sign-in: the recovery device on success, else None.

    The device row is locked, so one code cannot sign in twice at once; a wrong code
    counts towards django-otp's back-off on the device as a wrong authenticator code does.
    """
    from django_otp.plugins.otp_static.models import StaticDevice

    from .events import record_event
    from .models import EventType

    with transaction.atomic():
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None or not device.verify_is_allowed()[0]:
            return None
        token = device.token_set.filter(token=code).first()
        if token is None:
            device.throttle_increment()
            return None
        token.delete()
        device.throttle_reset(commit=False)
        device.set_last_used_timestamp(commit=False)
        device.save()
        record_event(
            EventType.USER_RECOVERY_CODE_USED,
            user=user,
            obj=user,
            details={"codes_left": device.token_set.count()},
        )
    return device


class TwoStepError(Exception):
    """A two-step change the user asked for and cannot have; the message says why."""


@transaction.atomic
def two_step_disable(*, user) -> None:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from policies.services import account_two_step_turned_off

    from .events import record_event
    from .models import EventType

    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()  # recovery codes go with the authenticator
    record_event(EventType.USER_TWO_STEP_DISABLED, user=user, obj=user)
    # Orgs whose policies require two-step login revoke the member (policies decide who).
    account_two_step_turned_off(user=user)
