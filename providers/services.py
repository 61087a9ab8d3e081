"""Writes on providers, their staff and their clients.

Keyword-only, the actor explicit (a resolved `portal.access.ProviderActor`), one
transaction each, and locks on whatever a rule is checked against.

Event logs: a provider's log holds the rows with `provider=` set; a client's log
the rows with `org=` set. A client event (created, added, updated, unlinked,
accessed) is written as two rows, one per log: the provider's row names the
client as its object, the client's row names the provider as `acting_provider`.
So each log is one indexed filter, and a client that leaves its provider keeps
its own log while the provider keeps its record of what it did.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from clients.models import AccessLevel, MemberRole, Membership, MemberStatus, Organization, Plan
from clients.selectors import seats_used
from clients.services import collection_grant_member, org_create
from portal.access import (
    ProviderActor,
    ProviderCapability,
    is_provider_admin_role,
    provider_user_can_be_scoped,
)
from portal.events import record_event
from portal.models import EventType, Invitation
from portal.selectors import two_step_device
from portal.services import MAX_INVITATIONS_AT_ONCE, invitation_create

from . import selectors
from .models import Provider, ProviderRole, ProviderUser, ProviderUserStatus

# The email columns' length: a longer address passes `validate_email` but not the database.
MAX_EMAIL_LENGTH = ProviderUser._meta.get_field("email").max_length


class ProviderError(Exception):
    """A refused provider action; the message says why and what to do instead."""


class LastAdminError(ProviderError):
    pass


# --- Providers (operators) -------------------------------------------------------------


@transaction.atomic
def provider_create(
    *, name: str, admin_email: str, business_name: str = ""
) -> tuple[Provider, bool]:
    """Create a provider with a confirmed admin. Returns the provider and whether the
    admin's account is new (and so has no password yet)."""
    User = get_user_model()
    email = admin_email.strip().lower()
    user = User.objects.filter(email=email).first()
    created_user = user is None
    if created_user:
        user = User.objects.create_user(email)
    provider = Provider.objects.create(name=name, business_name=business_name, billing_email=email)
    ProviderUser.objects.create(
        provider=provider,
        user=user,
        email=email,
        role=ProviderRole.ADMIN,
        status=ProviderUserStatus.CONFIRMED,
    )
    record_event(EventType.PROVIDER_CREATED, provider=provider, obj=provider)
    return provider, created_user


@transaction.atomic
def provider_user_add_confirmed(*, provider: Provider, user, role: str) -> ProviderUser:
    """Add an existing account as confirmed staff (operators and seeding)."""
    provider_user, _ = ProviderUser.objects.update_or_create(
        provider=provider,
        email=user.email,
        defaults={"user": user, "role": role, "status": ProviderUserStatus.CONFIRMED},
    )
    return provider_user


@transaction.atomic
def provider_set_enabled(*, provider: Provider, enabled: bool, user=None) -> int:
    """Disable a provider and its clients with it, or enable both again (operators).

    Enabling re-enables only the clients that were disabled with the provider, not
    one an operator had disabled on its own. Returns how many clients changed.
    """
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    if enabled:
        clients = Organization.objects.filter(provider=provider, disabled_with_provider=True)
        changed = clients.update(enabled=True, disabled_with_provider=False)
    else:
        clients = Organization.objects.filter(provider=provider, enabled=True)
        changed = clients.update(enabled=False, disabled_with_provider=True)
    provider.enabled = enabled
    provider.save(update_fields=["enabled"])
    record_event(
        EventType.PROVIDER_UPDATED,
        user=user,
        provider=provider,
        obj=provider,
        details={"enabled": enabled, "clients_changed": changed},
    )
    return changed


# --- Provider users --------------------------------------------------------------------


def _check_own(actor: ProviderActor, provider_user: ProviderUser) -> None:
    # Views fetch through the provider already; this keeps a service misuse from
    # ever reaching another provider's staff.
    if provider_user.provider_id != actor.provider.pk:
        raise ProviderError("That user is not on this provider's staff.")


def _locked_confirmed_admin_ids(provider: Provider) -> list:
    """Lock the provider's confirmed admin rows, then read them: two requests that each
    remove or demote an admin queue here, so the second sees the first one's change."""
    admins = selectors.confirmed_admins(provider=provider).select_for_update()
    return list(admins.values_list("pk", flat=True))


def _ensure_another_admin_remains(provider: Provider, provider_user: ProviderUser) -> None:
    admin_ids = _locked_confirmed_admin_ids(provider)
    if provider_user.pk in admin_ids and len(admin_ids) <= 1:
        raise LastAdminError(
            "A provider needs at least one confirmed provider admin. "
            "Invite and confirm another admin first."
        )


def _lock(provider_user: ProviderUser) -> ProviderUser:
    return ProviderUser.objects.select_for_update().get(pk=provider_user.pk)


def _record_provider_user_event(
    event_type: EventType, *, actor: ProviderActor, provider_user: ProviderUser, **details
) -> None:
    record_event(
        event_type,
        user=actor.user,
        provider=actor.provider,
        obj=provider_user,
        details={"email": provider_user.email, **details},
    )


def _clean_email(email: str) -> str:
    """The address, trimmed and lower-cased; ProviderError when it cannot be stored."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ProviderError(f"“{email}” is not a valid email address.") from None
    if len(email) > MAX_EMAIL_LENGTH:
        raise ProviderError(
            f"“{email[:40]}…” is longer than {MAX_EMAIL_LENGTH} characters, "
            "which no mailbox uses. Check the address."
        )
    return email


@transaction.atomic
def provider_user_invite(
    *, actor: ProviderActor, emails: Iterable[str], role: str
) -> list[ProviderUser]:
    """Invite up to 20 addresses as staff with one role; each gets an emailed link.

    All or nothing: one refused address and nobody is invited.
    """
    emails = [_clean_email(email) for email in emails]
    if not emails:
        raise ProviderError("Enter at least one email address.")
    if len(emails) > MAX_INVITATIONS_AT_ONCE:
        raise ProviderError(f"Invite at most {MAX_INVITATIONS_AT_ONCE} people at once.")
    if len(set(emails)) != len(emails):
        raise ProviderError("Each address may be listed only once.")
    if role not in ProviderRole.values:
        raise ProviderError("Choose a role from the list.")
    taken = sorted(
        ProviderUser.objects.filter(provider=actor.provider, email__in=emails).values_list(
            "email", flat=True
        )
    )
    if taken:
        raise ProviderError(f"Already on this provider's staff: {', '.join(taken)}.")
    invited = []
    for email in emails:
        provider_user = _create_invited(actor=actor, email=email, role=role)
        invitation_create(email=email, invited_by=actor.user, provider_user=provider_user)
        _record_provider_user_event(
            EventType.PROVIDER_USER_INVITED, actor=actor, provider_user=provider_user, role=role
        )
        invited.append(provider_user)
    return invited


def _create_invited(*, actor: ProviderActor, email: str, role: str) -> ProviderUser:
    try:
        # A savepoint: the unique constraint, not the check above, decides a race with
        # another admin inviting the same address at the same moment.
        with transaction.atomic():
            return ProviderUser.objects.create(
                provider=actor.provider, email=email, role=role, status=ProviderUserStatus.INVITED
            )
    except IntegrityError:
        raise ProviderError(
            f"{email} was invited to this provider's staff a moment ago by someone else."
        ) from None


@transaction.atomic
def provider_user_resend_invitations(
    *, actor: ProviderActor, provider_users: Iterable[ProviderUser]
) -> int:
    """Email pending invitees a fresh link; sending one makes earlier links stop working."""
    resent = 0
    for provider_user in provider_users:
        _check_own(actor, provider_user)
        provider_user = _lock(provider_user)
        if provider_user.status != ProviderUserStatus.INVITED:
            continue
        pending = Invitation.objects.filter(provider_user=provider_user, used_at__isnull=True)
        invitation = pending.order_by("-created_at").first()
        if invitation is None:
            invitation_create(
                email=provider_user.email, invited_by=actor.user, provider_user=provider_user
            )
        else:
            # The task issues a new token and restarts the 5 days.
            from portal.tasks import send_invitation

            transaction.on_commit(lambda pk=str(invitation.pk): send_invitation.delay(pk))
        _record_provider_user_event(
            EventType.PROVIDER_USER_INVITED, actor=actor, provider_user=provider_user, resent=True
        )
        resent += 1
    return resent


@transaction.atomic
def provider_user_confirm(*, actor: ProviderActor, provider_user: ProviderUser) -> ProviderUser:
    _check_own(actor, provider_user)
    provider_user = _lock(provider_user)
    if provider_user.status != ProviderUserStatus.ACCEPTED:
        raise ProviderError(
            f"{provider_user.email} cannot be confirmed: only users who accepted their "
            "invitation can be."
        )
    provider_user.status = ProviderUserStatus.CONFIRMED
    provider_user.save(update_fields=["status"])
    _record_provider_user_event(
        EventType.PROVIDER_USER_CONFIRMED, actor=actor, provider_user=provider_user
    )
    return provider_user


@transaction.atomic
def provider_user_update_role(
    *, actor: ProviderActor, provider_user: ProviderUser, role: str
) -> ProviderUser:
    _check_own(actor, provider_user)
    if role not in ProviderRole.values:
        raise ProviderError("Choose a role from the list.")
    if provider_user.user_id is not None and provider_user.user_id == actor.user.pk:
        raise ProviderError("You cannot change your own role. Ask another provider admin.")
    promoted = is_provider_admin_role(role)
    if not promoted:
        _ensure_another_admin_remains(actor.provider, provider_user)
    provider_user = _lock(provider_user)
    previous = provider_user.role
    if previous == role:
        return provider_user
    provider_user.role = role
    if promoted:
        # Admins reach every client; a list left from a service-user past would mislead.
        provider_user.access_all_clients = True
        provider_user.client_scope.clear()
    provider_user.save(update_fields=["role", "access_all_clients"])
    _record_provider_user_event(
        EventType.PROVIDER_USER_UPDATED,
        actor=actor,
        provider_user=provider_user,
        role=role,
        previous_role=previous,
    )
    return provider_user


@transaction.atomic
def provider_user_set_scope(
    *,
    actor: ProviderActor,
    provider_user: ProviderUser,
    all_clients: bool,
    clients: Iterable[Organization] = (),
) -> ProviderUser:
    """A service user reaches all the provider's clients, or only the listed ones."""
    _check_own(actor, provider_user)
    provider_user = _lock(provider_user)
    if not provider_user_can_be_scoped(provider_user):
        raise ProviderError(
            "Provider admins always reach every client; only service users "
            "can be limited to a list."
        )
    clients = [] if all_clients else list(clients)
    own_clients = set(
        selectors.provider_clients(provider=actor.provider)
        .filter(pk__in=[client.pk for client in clients])
        .values_list("pk", flat=True)
    )
    if any(client.pk not in own_clients for client in clients):
        raise ProviderError("Choose clients of this provider only (its internal team is not one).")
    provider_user.access_all_clients = all_clients
    provider_user.save(update_fields=["access_all_clients"])
    provider_user.client_scope.set(clients)
    _record_provider_user_event(
        EventType.PROVIDER_USER_UPDATED,
        actor=actor,
        provider_user=provider_user,
        access_all_clients=all_clients,
        clients=sorted(str(client.pk) for client in clients),
    )
    return provider_user


@transaction.atomic
def provider_user_remove(*, actor: ProviderActor, provider_user: ProviderUser) -> None:
    """Remove staff; never oneself, never the last confirmed provider admin."""
    _check_own(actor, provider_user)
    if provider_user.user_id is not None and provider_user.user_id == actor.user.pk:
        raise ProviderError("You cannot remove yourself. Ask another provider admin to do it.")
    _ensure_another_admin_remains(actor.provider, provider_user)
    provider_user = _lock(provider_user)
    _record_provider_user_event(
        EventType.PROVIDER_USER_REMOVED,
        actor=actor,
        provider_user=provider_user,
        role=provider_user.role,
        status=provider_user.status,
    )
    provider_user.delete()


# --- Clients ---------------------------------------------------------------------------


def _record_client_event(
    event_type: EventType,
    *,
    actor: ProviderActor,
    org: Organization,
    org_event_type: EventType | None = None,
    **details,
) -> None:
    """One row in the provider's log and, unless the org wrote its own, one in the client's."""
    record_event(
        event_type,
        user=actor.user,
        provider=actor.provider,
        obj=org,
        details={"client": org.name, **details},
    )
    if org_event_type is not None:
        record_event(
            org_event_type,
            user=actor.user,
            acting_provider=actor.provider,
            org=org,
            obj=org,
            details=details,
        )


def _lock_client(actor: ProviderActor, org: Organization) -> Organization:
    """The client's row, locked; refused unless it is a client the actor reaches. (Views
    answer 404 before this; the check keeps a service misuse from reaching further.)"""
    locked = Organization.objects.select_for_update().filter(pk=org.pk).first()
    if locked is None or not actor.reaches_client(locked):
        raise ProviderError("That organization is not one of your clients.")
    return locked


@transaction.atomic
def client_create(
    *, actor: ProviderActor, name: str, plan: str, seats: int, owner_email: str
) -> Organization:
    """A new client org, its default collection, and its owner invited to manage it."""
    if seats < 1:
        raise ProviderError("A client needs at least 1 seat, for its owner.")
    if plan not in Plan.values:
        raise ProviderError("Choose a plan from the list.")
    owner_email = _clean_email(owner_email)
    org = org_create(
        user=actor.user,
        name=name.strip(),
        plan=plan,
        seats=seats,
        provider=actor.provider,
        acting_provider=actor.provider,
    )
    owner = Membership.objects.create(
        org=org, email=owner_email, role=MemberRole.OWNER, status=MemberStatus.INVITED
    )
    default_collection = org.collections.get(is_default=True)
    collection_grant_member(
        collection=default_collection, membership=owner, level=AccessLevel.MANAGE
    )
    invitation_create(email=owner_email, invited_by=actor.user, membership=owner)
    record_event(
        EventType.MEMBER_INVITED,
        user=actor.user,
        acting_provider=actor.provider,
        org=org,
        obj=owner,
        details={"email": owner_email, "role": MemberRole.OWNER},
    )
    _record_client_event(EventType.CLIENT_CREATED, actor=actor, org=org, plan=plan, seats=seats)
    return org


@transaction.atomic
def client_add(*, actor: ProviderActor, org: Organization) -> Organization:
    """Bring an existing org under the provider; its confirmed owner asks for it."""
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if org.provider_id is not None or hasattr(org, "internal_of_provider"):
        raise ProviderError(f"{org.name} is already managed by a provider.")
    if not selectors.user_may_add_org(actor.user, org):
        raise ProviderError("You can only add an organization of which you are a confirmed owner.")
    org.provider = actor.provider
    org.save(update_fields=["provider"])
    _record_client_event(
        EventType.CLIENT_ADDED,
        actor=actor,
        org=org,
        org_event_type=EventType.ORG_UPDATED,
        provider_added=actor.provider.name,
    )
    return org


@transaction.atomic
def client_update(
    *, actor: ProviderActor, org: Organization, name: str, seats: int | None = None
) -> Organization:
    """Rename a client and, for those who manage seats, change its seats."""
    org = _lock_client(actor, org)
    changes: dict = {}
    name = name.strip()
    if name and name != org.name:
        changes["name"] = {"from": org.name, "to": name}
        org.name = name
    if seats is not None and seats != org.seats:
        if not actor.can(ProviderCapability.SEATS_MANAGE):
            raise ProviderError("Only provider admins change a client's seats.")
        _check_seats(org, seats)
        changes["seats"] = {"from": org.seats, "to": seats}
        org.seats = seats
    if not changes:
        return org
    org.save(update_fields=["name", "seats"])
    _record_client_event(
        EventType.CLIENT_UPDATED,
        actor=actor,
        org=org,
        org_event_type=EventType.ORG_UPDATED,
        **changes,
    )
    return org


def _check_seats(org: Organization, seats: int) -> None:
    if seats < 1:
        raise ProviderError("A client needs at least 1 seat.")
    in_use = seats_used(org=org)
    if seats < in_use:
        raise ProviderError(
            f"{org.name} already uses {in_use} seats (invited, accepted and confirmed members). "
            f"Choose at least {in_use}, or remove or revoke members first."
        )


@transaction.atomic
def client_unlink(*, actor: ProviderActor, org: Organization) -> Organization:
    """Let a client go: it keeps everything, and must be able to run itself."""
    org = _lock_client(actor, org)
    if not selectors.has_confirmed_owner(org=org):
        raise ProviderError(
            f"{org.name} has no confirmed owner of its own, so nobody could manage it after "
            "unlinking. Have its owner accept their invitation (and confirm them) first."
        )
    Provider.objects.filter(pk=actor.provider.pk, internal_org=org).update(internal_org=None)
    org.provider = None
    org.save(update_fields=["provider"])
    # Scoped service users must not keep a reference to a client that is gone.
    org.scoped_provider_users.clear()
    _record_client_event(
        EventType.CLIENT_UNLINKED,
        actor=actor,
        org=org,
        org_event_type=EventType.ORG_UPDATED,
        provider_unlinked=actor.provider.name,
    )
    return org


@transaction.atomic
def provider_set_require_two_step(*, actor: ProviderActor, require: bool) -> Provider:
    """Require two-step login of every provider user, or stop requiring it.

    Enforced by the permission layer at each provider user's next request. The admin who
    switches it on must have it on already, or their own next page would be the enrolment.
    """
    provider = Provider.objects.select_for_update().get(pk=actor.provider.pk)
    previous = provider.require_two_step
    if previous == require:
        return provider
    if require and two_step_device(actor.user) is None:
        raise ProviderError(
            "Turn on two-step login for your own account first (Two-step login, at the top), "
            "then require it of every provider user."
        )
    provider.require_two_step = require
    provider.save(update_fields=["require_two_step"])
    record_event(
        EventType.PROVIDER_UPDATED,
        user=actor.user,
        provider=provider,
        obj=provider,
        details={"name": provider.name, "changes": {"require_two_step": [previous, require]}},
    )
    actor.provider.require_two_step = require
    return provider


@transaction.atomic
def provider_set_internal_org(*, actor: ProviderActor, org: Organization | None) -> Provider:
    """Mark one of the provider's orgs as its own team (not a client), or clear it."""
    provider = Provider.objects.select_for_update().get(pk=actor.provider.pk)
    if org is not None and org.provider_id != provider.pk:
        raise ProviderError("Choose one of this provider's organizations.")
    previous = provider.internal_org_id
    if previous == (org.pk if org else None):
        return provider
    provider.internal_org = org
    provider.save(update_fields=["internal_org"])
    if org is not None:
        # The provider's own team is not a client: no service user is scoped to it.
        org.scoped_provider_users.clear()
    record_event(
        EventType.PROVIDER_UPDATED,
        user=actor.user,
        provider=provider,
        obj=provider,
        details={
            "internal_org": str(org.pk) if org else None,
            "previous_internal_org": str(previous) if previous else None,
        },
    )
    actor.provider.internal_org = org
    return provider
