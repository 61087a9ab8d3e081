"""Writes on memberships: invitations, confirmation, roles, revocation, removal.

Keyword-only, the acting `portal.access.Actor` explicit, one transaction and one event
each. Who may do what to whom is decided by the permission layer
(`member_management_refusal`, `grant_refusal`); these functions apply it to rows
they have locked.

The rule "every org keeps a confirmed owner" is checked under a row lock on the
org's confirmed owner rows (`_locked_confirmed_owner_ids`), taken before the target's
own row: two requests that each demote, revoke or remove an owner queue there, and
the second one reads the first one's change. Seat checks lock the org row first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from portal.access import (
    Actor,
    collection_levels_allowed,
    grant_refusal,
    group_changes_allowed,
    is_own_membership,
    is_owner_role,
    member_management_refusal,
    role_has_flags,
)
from portal.events import record_org_event
from portal.models import EventType, Invitation
from portal.services import MAX_INVITATIONS_AT_ONCE, invitation_create

from ..models import (
    CUSTOM_PERMISSION_FLAGS,
    AccessLevel,
    Collection,
    CollectionMemberGrant,
    Group,
    MemberRole,
    Membership,
    MemberStatus,
    Organization,
)
from ..selectors.members import confirmed_owners
from ..selectors.orgs import seats_used

MAX_EMAIL_LENGTH = Membership._meta.get_field("email").max_length
FLAG_NAMES = tuple(flag for flag, _label in CUSTOM_PERMISSION_FLAGS)


class MemberError(Exception):
    """A refused member action; the message says why and what to do instead."""


class LastOwnerError(MemberError):
    pass


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


# --- Locks and checks --------------------------------------------------------------------


def _lock_org(actor: Actor) -> Organization:
    return Organization.objects.select_for_update().get(pk=actor.org.pk)


def _locked_confirmed_owner_ids(org: Organization) -> list:
    """Lock the org's confirmed owner rows (in pk order, so no two requests deadlock),
    then read them."""
    owners = confirmed_owners(org=org).select_for_update().order_by("pk")
    return list(owners.values_list("pk", flat=True))


def _lock_member(actor: Actor, membership: Membership) -> tuple[Membership, list]:
    """The owner rows, then the member's row, locked; refused when the actor may not
    manage the member as it now stands."""
    owner_ids = _locked_confirmed_owner_ids(actor.org)
    locked = Membership.objects.select_for_update().filter(org=actor.org, pk=membership.pk).first()
    if locked is None:
        raise MemberError("That member is no longer in this organization.")
    refusal = member_management_refusal(actor, locked)
    if refusal:
        raise MemberError(refusal)
    return locked, owner_ids


def _check_policies(membership: Membership) -> None:
    """The org's policies may forbid confirming or restoring a member (e.g. no two-step)."""
    from policies.services import PolicyRefusal, member_join_check

    try:
        member_join_check(membership=membership, user=membership.user)
    except PolicyRefusal as refusal:
        raise MemberError(str(refusal)) from None


def _ensure_another_owner_remains(owner_ids: list, membership: Membership) -> None:
    if membership.pk in owner_ids and len(owner_ids) <= 1:
        raise LastOwnerError(
            f"{membership.email} is the only confirmed owner, and every organization needs "
            "one. Make another member owner (and confirm them) first."
        )


def _check_grant(actor: Actor, role: str, flags: Iterable[str]) -> frozenset[str]:
    """The flags to store for `role`; MemberError when the actor may not give them."""
    flags = frozenset(flags) if role_has_flags(role) else frozenset()
    unknown = flags - set(FLAG_NAMES)
    if unknown:
        raise MemberError("Choose permissions from the list.")
    refusal = grant_refusal(actor, role, flags)
    if refusal:
        raise MemberError(refusal)
    return flags


def _check_access(
    actor: Actor,
    groups: Iterable[Group],
    collection_levels: Mapping[Collection, str],
    *,
    membership: Membership | None = None,
) -> tuple[list[Group], dict[Collection, str]]:
    """The groups and levels to store; MemberError for other orgs' objects or unknown levels.

    Access the actor may not hand out (`access.group_changes_allowed`,
    `access.collection_levels_allowed`) is refused on an invitation, and stays as it was
    on an edit, where the form shows it read-only.
    """
    groups = set(groups)
    levels = {collection: level for collection, level in collection_levels.items() if level}
    if any(group.org_id != actor.org.pk for group in groups) or any(
        collection.org_id != actor.org.pk for collection in levels
    ):
        raise MemberError("Choose groups and collections of this organization only.")
    if any(level not in AccessLevel.values for level in levels.values()):
        raise MemberError("Choose an access level from the list.")
    groups_before: set[Group] = set(membership.groups.all()) if membership else set()
    levels_before: dict[Collection, str] = (
        {grant.collection: grant.level for grant in membership.collection_grants.all()}
        if membership
        else {}
    )
    changed_groups = groups ^ groups_before
    changed_collections = {
        c for c in levels.keys() | levels_before.keys() if levels.get(c) != levels_before.get(c)
    }
    may_change_groups = group_changes_allowed(actor, changed_groups)
    may_change_levels = collection_levels_allowed(actor, {c.pk for c in changed_collections})
    if membership is None and (
        may_change_groups != changed_groups or len(may_change_levels) != len(changed_collections)
    ):
        raise MemberError(
            "You can only give access you manage: collections you manage, and groups "
            "(with the manage-groups permission) whose collections you all manage."
        )
    kept_groups = {g for g in changed_groups - may_change_groups if g in groups_before}
    groups = (groups & (groups_before | may_change_groups)) | kept_groups
    for collection in changed_collections:
        if collection.pk not in may_change_levels:
            levels[collection] = levels_before.get(collection)
    levels = {collection: level for collection, level in levels.items() if level}
    return sorted(groups, key=lambda group: group.name), levels


def _set_flags(membership: Membership, flags: frozenset[str]) -> None:
    for flag in FLAG_NAMES:
        setattr(membership, flag, flag in flags)


def _access_snapshot(membership: Membership) -> dict:
    """Group and collection names with levels: plain values for an event's changes."""
    groups = sorted(membership.groups.values_list("name", flat=True))
    collections = dict(
        CollectionMemberGrant.objects.filter(membership=membership)
        .order_by("collection__name")
        .values_list("collection__name", "level")
    )
    return {"groups": groups, "collections": collections}


def _record(event_type: EventType, *, actor: Actor, membership: Membership, **details) -> None:
    record_org_event(
        event_type,
        actor=actor,
        obj=membership,
        details={"email": membership.email, **details},
    )


# --- Invitations -----------------------------------------------------------------------


@transaction.atomic
def member_invite(
    *,
    actor: Actor,
    emails: Iterable[str],
    role: str,
    flags: Iterable[str] = (),
    groups: Iterable[Group] = (),
    collection_levels: Mapping[Collection, str] | None = None,
) -> list[Membership]:
    """Invite up to 20 addresses with one role and the same access; each gets an emailed
    link. All or nothing: one refused address, or too few seats, and nobody is invited."""
    emails = [email.strip().lower() for email in emails if email.strip()]
    if not emails:
        raise MemberError("Enter at least one email address.")
    if len(emails) > MAX_INVITATIONS_AT_ONCE:
        raise MemberError(
            f"You entered {len(emails)} addresses; invite at most "
            f"{MAX_INVITATIONS_AT_ONCE} at once."
        )
    if len(set(emails)) != len(emails):
        raise MemberError("Each address may be listed only once.")
    if any(len(email) > MAX_EMAIL_LENGTH for email in emails):
        raise MemberError(f"Email addresses are at most {MAX_EMAIL_LENGTH} characters.")
    flags = _check_grant(actor, role, flags)
    groups, levels = _check_access(actor, groups, collection_levels or {})
    org = _lock_org(actor)
    taken = sorted(org.memberships.filter(email__in=emails).values_list("email", flat=True))
    if taken:
        raise MemberError(f"Already a member of {org.name} (in any status): {', '.join(taken)}.")
    used = seats_used(org=org)
    if used + len(emails) > org.seats:
        free = max(org.seats - used, 0)
        raise MemberError(
            f"{org.name} has {org.seats} seats and {used} are in use (invited, accepted and "
            f"confirmed members), so {free} {'is' if free == 1 else 'are'} free; you tried to "
            f"invite {len(emails)}. Revoke or remove members, or ask for more seats."
        )
    invited = []
    for email in emails:
        membership = _create_invited(org=org, email=email, role=role, flags=flags)
        membership.groups.set(groups)
        CollectionMemberGrant.objects.bulk_create(
            CollectionMemberGrant(collection=collection, membership=membership, level=level)
            for collection, level in levels.items()
        )
        invitation_create(email=email, invited_by=actor.user, membership=membership)
        _record(
            EventType.MEMBER_INVITED,
            actor=actor,
            membership=membership,
            role=role,
            flags=sorted(flags),
            **_access_snapshot(membership),
        )
        invited.append(membership)
    return invited


def _create_invited(*, org: Organization, email: str, role: str, flags) -> Membership:
    membership = Membership(org=org, email=email, role=role, status=MemberStatus.INVITED)
    _set_flags(membership, flags)
    try:
        # A savepoint: the unique constraint decides a race with another invitation.
        with transaction.atomic():
            membership.save(force_insert=True)
    except IntegrityError:
        raise MemberError(f"{email} was invited a moment ago by someone else.") from None
    return membership


@transaction.atomic
def member_resend_invitation(*, actor: Actor, membership: Membership) -> Membership:
    """Email an invited member a fresh link; the task issues a new token, and the
    earlier link stops working."""
    membership, _owners = _lock_member(actor, membership)
    if membership.status != MemberStatus.INVITED:
        raise MemberError(f"{membership.email} is not waiting for an invitation.")
    pending = Invitation.objects.filter(membership=membership, used_at__isnull=True)
    invitation = pending.order_by("-created_at").first()
    if invitation is None:
        invitation_create(email=membership.email, invited_by=actor.user, membership=membership)
    else:
        from portal.tasks import send_invitation

        transaction.on_commit(lambda pk=str(invitation.pk): send_invitation.delay(pk))
    _record(EventType.MEMBER_INVITED, actor=actor, membership=membership, resent=True)
    return membership


# --- Status: confirm, revoke, restore --------------------------------------------------


@transaction.atomic
def member_confirm(*, actor: Actor, membership: Membership) -> Membership:
    membership, _owners = _lock_member(actor, membership)
    if membership.status != MemberStatus.ACCEPTED:
        raise MemberError(
            f"{membership.email} has not accepted the invitation yet "
            f"({membership.get_status_display().lower()}); only members who accepted "
            "can be confirmed."
        )
    _check_policies(membership)
    membership.status = MemberStatus.CONFIRMED
    membership.save(update_fields=["status"])
    _record(
        EventType.MEMBER_CONFIRMED,
        actor=actor,
        membership=membership,
        changes={"status": [MemberStatus.ACCEPTED.value, MemberStatus.CONFIRMED.value]},
    )
    return membership


@transaction.atomic
def member_revoke(*, actor: Actor, membership: Membership) -> Membership:
    """Access ends at the member's next request: `resolve` reads the status every time."""
    membership, owner_ids = _lock_member(actor, membership)
    if membership.status == MemberStatus.REVOKED:
        raise MemberError(f"{membership.email} is already revoked.")
    _ensure_another_owner_remains(owner_ids, membership)
    before = membership.status
    membership.prior_status = before
    membership.status = MemberStatus.REVOKED
    membership.save(update_fields=["status", "prior_status"])
    _record(
        EventType.MEMBER_REVOKED,
        actor=actor,
        membership=membership,
        changes={"status": [before, MemberStatus.REVOKED.value]},
    )
    return membership


@transaction.atomic
def member_restore(*, actor: Actor, membership: Membership) -> Membership:
    """Back to the status the member had when revoked; that takes a seat again."""
    org = _lock_org(actor)
    membership, _owners = _lock_member(actor, membership)
    if membership.status != MemberStatus.REVOKED:
        raise MemberError(f"{membership.email} is not revoked.")
    used = seats_used(org=org)
    if used >= org.seats:
        raise MemberError(
            f"{org.name} uses all of its {org.seats} seats, so {membership.email} cannot be "
            "restored. Revoke or remove another member, or ask for more seats."
        )
    after = membership.prior_status or MemberStatus.INVITED
    if after != MemberStatus.INVITED:
        _check_policies(membership)
    membership.status = after
    membership.prior_status = ""
    membership.save(update_fields=["status", "prior_status"])
    _record(
        EventType.MEMBER_RESTORED,
        actor=actor,
        membership=membership,
        changes={"status": [MemberStatus.REVOKED.value, after]},
    )
    return membership


# --- Role and access -------------------------------------------------------------------


@transaction.atomic
def member_update(
    *,
    actor: Actor,
    membership: Membership,
    role: str,
    flags: Iterable[str] = (),
    groups: Iterable[Group] = (),
    collection_levels: Mapping[Collection, str] | None = None,
) -> Membership:
    """Change a member's role, custom flags, groups and direct collection access."""
    membership, owner_ids = _lock_member(actor, membership)
    flags = _check_grant(actor, role, flags)
    groups, levels = _check_access(actor, groups, collection_levels or {}, membership=membership)
    if not is_owner_role(role):
        _ensure_another_owner_remains(owner_ids, membership)
    before = {"role": membership.role, "flags": sorted(membership.custom_flags)}
    before.update(_access_snapshot(membership))
    membership.role = role
    _set_flags(membership, flags)
    membership.save(update_fields=["role", *FLAG_NAMES])
    membership.groups.set(groups)
    membership.collection_grants.exclude(collection__in=list(levels)).delete()
    for collection, level in levels.items():
        CollectionMemberGrant.objects.update_or_create(
            collection=collection, membership=membership, defaults={"level": level}
        )
    after = {"role": role, "flags": sorted(flags), **_access_snapshot(membership)}
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        _record(EventType.MEMBER_UPDATED, actor=actor, membership=membership, changes=changes)
    return membership


# --- Removal and leaving ---------------------------------------------------------------


@transaction.atomic
def member_remove(*, actor: Actor, membership: Membership) -> None:
    """Delete the membership with its collection grants, group links and invitations."""
    membership, owner_ids = _lock_member(actor, membership)
    _ensure_another_owner_remains(owner_ids, membership)
    _record(
        EventType.MEMBER_REMOVED,
        actor=actor,
        membership=membership,
        role=membership.role,
        status=membership.status,
    )
    membership.delete()


@transaction.atomic
def member_leave(*, actor: Actor) -> None:
    """A member leaves the org themself; the last confirmed owner cannot."""
    if actor.membership is None:
        raise MemberError("You are not a member of this organization.")
    owner_ids = _locked_confirmed_owner_ids(actor.org)
    membership = (
        Membership.objects.select_for_update().filter(org=actor.org, pk=actor.membership.pk).first()
    )
    if membership is None or not is_own_membership(actor, membership):
        raise MemberError("You are not a member of this organization.")
    if membership.pk in owner_ids and len(owner_ids) <= 1:
        raise LastOwnerError(
            "You are the only confirmed owner, and every organization needs one. "
            "Make another member owner (and confirm them) before you leave."
        )
    _record(EventType.MEMBER_LEFT, actor=actor, membership=membership, role=membership.role)
    membership.delete()


# --- Bulk actions from the members list ------------------------------------------------

BULK_ACTIONS = {
    # action: (service, the summary's count of what was done)
    "confirm": (member_confirm, "{n} confirmed"),
    "resend": (member_resend_invitation, "{n} invitation{s} resent"),
    "revoke": (member_revoke, "{n} revoked"),
    "restore": (member_restore, "{n} restored"),
    "remove": (member_remove, "{n} removed"),
}


@dataclass
class BulkOutcome:
    action: str
    done: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """ "2 confirmed; 1 skipped: bob@example.test has not accepted ..." """
        text = BULK_ACTIONS[self.action][1].format(n=self.done, s="" if self.done == 1 else "s")
        if not self.skipped:
            return text + "."
        return f"{text}; {len(self.skipped)} skipped: " + " ".join(self.skipped)


def members_bulk_apply(
    *, actor: Actor, action: str, memberships: Iterable[Membership]
) -> BulkOutcome:
    """Apply one action to each ticked member, each in its own transaction; a refusal
    skips that member with its reason and the others go on."""
    service, _summary = BULK_ACTIONS[action]
    outcome = BulkOutcome(action=action)
    for membership in memberships:
        try:
            service(actor=actor, membership=membership)
        except MemberError as error:
            outcome.skipped.append(str(error))
        else:
            outcome.done += 1
    return outcome
