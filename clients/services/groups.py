"""Writes on groups: create, rename, delete, members, collection access.

A group carries no admin rights: only the collection grants it holds. `group_create`
predates the pages and seeds orgs (the demo) without an actor or an event; what people
do on the pages goes through the actor's services below, one event each.
"""

from __future__ import annotations

from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from portal.access import Actor, CollectionManagement, may_change_own_groups
from portal.events import record_org_event
from portal.models import EventType

from ..models import (
    AccessLevel,
    CollectionGroupGrant,
    Group,
    MemberStatus,
    Organization,
)


class GroupError(Exception):
    """A change to a group that cannot be made; the message says why, for the page."""


@transaction.atomic
def group_create(*, org: Organization, name: str, members=()) -> Group:
    group = Group.objects.create(org=org, name=name)
    group.members.set(members)
    return group


def _lock_org(org: Organization) -> None:
    """Serialize name checks within one org (the unique constraint is the last word)."""
    Organization.objects.select_for_update().filter(pk=org.pk).first()


def _lock_group(org: Organization, group_id: UUID) -> Group:
    group = org.groups.select_for_update().filter(pk=group_id).first()
    if group is None:
        raise GroupError("This group no longer exists.")
    return group


def _clean_name(org: Organization, name: str, *, exclude: UUID | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise GroupError("Give the group a name.")
    taken = org.groups.filter(name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise GroupError(f"A group named “{name}” already exists. Choose another name.")
    return name


@transaction.atomic
def group_add(*, actor: Actor, name: str) -> Group:
    org = actor.org
    _lock_org(org)
    name = _clean_name(org, name)
    try:
        with transaction.atomic():
            group = Group.objects.create(org=org, name=name)
    except IntegrityError as error:
        raise GroupError(f"A group named “{name}” already exists.") from error
    record_org_event(EventType.GROUP_CREATED, actor=actor, obj=group, details={"name": name})
    return group


@transaction.atomic
def group_rename(*, actor: Actor, group: Group, name: str) -> Group:
    org = actor.org
    _lock_org(org)
    group = _lock_group(org, group.pk)
    name = _clean_name(org, name, exclude=group.pk)
    before = group.name
    if name == before:
        return group
    group.name = name
    group.save(update_fields=["name"])
    record_org_event(
        EventType.GROUP_UPDATED,
        actor=actor,
        obj=group,
        details={"name": name, "changes": {"name": [before, name]}},
    )
    return group


@transaction.atomic
def group_delete(*, actor: Actor, group: Group) -> None:
    """Delete the group; its members lose the access it gave them, nothing else."""
    group = _lock_group(actor.org, group.pk)
    record_org_event(
        EventType.GROUP_DELETED,
        actor=actor,
        obj=group,
        details={"name": group.name, "members": group.members.count()},
    )
    group.delete()


def _normalize_emails(emails) -> list[str]:
    seen: dict[str, None] = {}
    for email in emails:
        email = email.strip().lower()
        if email:
            seen.setdefault(email, None)
    return list(seen)


@transaction.atomic
def group_members_update(
    *, actor: Actor, group: Group, add_emails=(), remove_ids=()
) -> tuple[list[str], list[str]]:
    """Add members by email and remove members by id; returns (added, removed) emails.

    Only memberships of the group's org that are not revoked can join. Unknown emails
    or ids are an error and nothing changes.
    """
    org = actor.org
    group = _lock_group(org, group.pk)
    emails = _normalize_emails(add_emails)
    joining = list(
        org.memberships.exclude(status=MemberStatus.REVOKED)
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
    )
    missing = sorted(set(emails) - {m.email.lower() for m in joining})
    if missing:
        raise GroupError(
            "Not a member of this organization: " + ", ".join(missing) + ". Invite them first."
        )
    remove_ids = set(remove_ids)
    leaving = list(group.members.filter(org_id=org.pk, pk__in=remove_ids))
    if len(leaving) != len(remove_ids):
        raise GroupError("Some of the members to remove are not in this group.")
    own = actor.membership.pk if actor.membership is not None else None
    if own in {m.pk for m in joining} and not may_change_own_groups(actor):
        raise GroupError(
            "You cannot add yourself to a group: it would give you its collections. "
            "Ask someone who manages all collections."
        )
    current = set(group.members.filter(pk__in=[m.pk for m in joining]).values_list("pk", flat=True))
    joining = [m for m in joining if m.pk not in current]
    group.members.add(*joining)
    group.members.remove(*leaving)
    added = sorted(m.email for m in joining)
    removed = sorted(m.email for m in leaving)
    if added or removed:
        record_org_event(
            EventType.GROUP_UPDATED,
            actor=actor,
            obj=group,
            details={"name": group.name, "members": {"added": added, "removed": removed}},
        )
    return added, removed


@transaction.atomic
def group_collections_update(
    *,
    actor: Actor,
    management: CollectionManagement,
    group: Group,
    levels: dict[UUID, str | None],
) -> dict:
    """Set the group's level on each collection named (None: no access).

    Only collections the actor manages can change, so a group manager cannot hand a
    group (or themselves, through it) a collection they do not manage.
    """
    org = actor.org
    group = _lock_group(org, group.pk)
    if any(level is not None and level not in AccessLevel.values for level in levels.values()):
        raise GroupError("Choose a level from the list.")
    names = dict(
        org.collections.select_for_update().filter(pk__in=list(levels)).values_list("pk", "name")
    )
    if len(names) != len(levels):
        raise GroupError("Some of the collections are not in this organization.")
    if not all(management.may_manage(pk) for pk in levels):
        raise GroupError("You can only change access to collections you manage.")
    existing = {
        grant.collection_id: grant
        for grant in CollectionGroupGrant.objects.select_for_update().filter(
            group=group, collection_id__in=list(levels)
        )
    }
    access = {"added": [], "removed": [], "changed": []}
    for pk, level in levels.items():
        grant = existing.get(pk)
        if grant is None and level:
            CollectionGroupGrant.objects.create(group=group, collection_id=pk, level=level)
            access["added"].append([names[pk], level])
        elif grant is not None and not level:
            grant.delete()
            access["removed"].append([names[pk], grant.level])
        elif grant is not None and grant.level != level:
            access["changed"].append([names[pk], grant.level, level])
            grant.level = level
            grant.save(update_fields=["level"])
    if any(access.values()):
        record_org_event(
            EventType.GROUP_UPDATED,
            actor=actor,
            obj=group,
            details={"name": group.name, "access": access},
        )
    return access
