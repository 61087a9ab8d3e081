"""Writes on collections: create, rename, delete, and their access.

`collection_create` and the two `collection_grant_*` helpers predate the pages: they
seed orgs (the demo, a new client's owner grant) without an actor or an event. What
people do on the pages goes through the actor's services below, one event each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from django.db import IntegrityError, transaction

from portal.access import Actor, CollectionManagement
from portal.events import record_org_event
from portal.models import EventType
from vault.models import Item
from vault.tallies import tally_items_moved_to

from ..models import (
    AccessLevel,
    Collection,
    CollectionGroupGrant,
    CollectionMemberGrant,
    Group,
    Membership,
    MemberStatus,
    Organization,
)
from ..selectors.collections import items_only_in


class CollectionError(Exception):
    """A change to a collection that cannot be made; the message says why, for the page."""


@transaction.atomic
def collection_create(*, org: Organization, name: str) -> Collection:
    return Collection.objects.create(org=org, name=name)


def collection_grant_member(*, collection: Collection, membership: Membership, level: AccessLevel):
    if collection.org_id != membership.org_id:
        raise ValueError("A collection can only be shared within its own organization.")
    CollectionMemberGrant.objects.update_or_create(
        collection=collection, membership=membership, defaults={"level": level}
    )


def collection_grant_group(*, collection: Collection, group: Group, level: AccessLevel):
    if collection.org_id != group.org_id:
        raise ValueError("A collection can only be shared within its own organization.")
    CollectionGroupGrant.objects.update_or_create(
        collection=collection, group=group, defaults={"level": level}
    )


MAX_DEPTH = 10


def clean_collection_name(name: str) -> str:
    """ "Finance / Banking" -> "Finance/Banking"; an empty part of the path is refused."""
    parts = [part.strip() for part in name.strip().strip("/").split("/")]
    if not all(parts):
        raise CollectionError("Give every part of a nested name a name, as in Finance/Banking.")
    if len(parts) > MAX_DEPTH:
        raise CollectionError(f"Nest collections at most {MAX_DEPTH} levels deep.")
    return "/".join(parts)


def _lock_org(org: Organization) -> None:
    """Serialize name checks within one org (the unique constraint is the last word)."""
    Organization.objects.select_for_update().filter(pk=org.pk).first()


def _check_name_free(org: Organization, name: str, *, exclude: UUID | None = None) -> None:
    taken = org.collections.filter(name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise CollectionError(f"A collection named “{name}” already exists. Choose another name.")


def _require_all(management: CollectionManagement, what: str) -> None:
    if not management.manages_all:
        raise CollectionError(f"Only those who manage all collections may {what}.")


def _lock_managed(
    management: CollectionManagement, collection_id: UUID, org: Organization
) -> Collection:
    collection = org.collections.select_for_update().filter(pk=collection_id).first()
    if collection is None:
        raise CollectionError("This collection no longer exists.")
    if not management.may_manage(collection.pk):
        raise CollectionError("You cannot manage this collection.")
    return collection


@transaction.atomic
def collection_add(*, actor: Actor, management: CollectionManagement, name: str) -> Collection:
    _require_all(management, "create collections")
    org = actor.org
    name = clean_collection_name(name)
    _lock_org(org)
    _check_name_free(org, name)
    try:
        with transaction.atomic():
            collection = Collection.objects.create(org=org, name=name)
    except IntegrityError as error:
        raise CollectionError(f"A collection named “{name}” already exists.") from error
    record_org_event(
        EventType.COLLECTION_CREATED, actor=actor, obj=collection, details={"name": name}
    )
    return collection


@transaction.atomic
def collection_rename(
    *, actor: Actor, management: CollectionManagement, collection: Collection, name: str
) -> Collection:
    org = actor.org
    name = clean_collection_name(name)
    _lock_org(org)
    collection = _lock_managed(management, collection.pk, org)
    before = collection.name
    if name == before:
        return collection
    _check_name_free(org, name, exclude=collection.pk)
    collection.name = name
    collection.save(update_fields=["name"])
    record_org_event(
        EventType.COLLECTION_UPDATED,
        actor=actor,
        obj=collection,
        details={"name": name, "changes": {"name": [before, name]}},
    )
    return collection


@transaction.atomic
def collection_delete(
    *, actor: Actor, management: CollectionManagement, collection: Collection
) -> int:
    """Delete the collection; its items in no other collection move to the default one.

    Returns how many items moved. Items are never deleted here.
    """
    _require_all(management, "delete collections")
    org = actor.org
    collection = _lock_managed(management, collection.pk, org)
    if collection.is_default:
        raise CollectionError(
            "The default collection cannot be deleted: items with nowhere else to go move there."
        )
    default = org.collections.select_for_update().filter(is_default=True).first()
    # Lock the items (all of them, so not .exists()) so that none leaves its other
    # collection between our look and the delete: it would end up in no collection.
    list(
        Item.objects.select_for_update(of=("self",))
        .filter(collections=collection)
        .values_list("pk", flat=True)
    )
    moving = list(items_only_in(collection).values_list("pk", flat=True))
    if moving and default is None:
        raise CollectionError(
            "This organization has no default collection to move the items to, "
            "so the collection cannot be deleted."
        )
    through = Item.collections.through
    through.objects.bulk_create(
        [through(item_id=pk, collection_id=default.pk) for pk in moving],
        ignore_conflicts=True,
        batch_size=1000,
    )
    if moving:
        tally_items_moved_to(org_id=org.pk, collection_id=default.pk, item_ids=moving)
    name = collection.name
    record_org_event(
        EventType.COLLECTION_DELETED,
        actor=actor,
        obj=collection,
        details={"name": name, "items_moved": len(moving)},
    )
    collection.delete()
    return len(moving)


# -------------------------------------------------------------------------
# Access: members and groups, at one of the five levels
# -------------------------------------------------------------------------

MEMBER = "member"
GROUP = "group"


@dataclass
class AccessChange:
    """What the access form asks for. `levels` maps (kind, id) to a level, or None for
    "no access"; only the rows named change."""

    levels: dict[tuple[str, UUID], str | None] = field(default_factory=dict)
    add_member_email: str = ""
    add_group_name: str = ""
    add_level: str = ""


@dataclass
class AccessDiff:
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    changed: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def as_details(self) -> dict:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def _resolve_additions(org: Organization, change: AccessChange) -> None:
    """Turn the "add" fields into rows of `change.levels`; unknown names are errors."""
    if not (change.add_member_email or change.add_group_name):
        return
    if change.add_level not in AccessLevel.values:
        raise CollectionError("Choose the level of access to give.")
    if change.add_member_email:
        member = (
            org.memberships.exclude(status=MemberStatus.REVOKED)
            .filter(email__iexact=change.add_member_email.strip())
            .first()
        )
        if member is None:
            raise CollectionError(
                f"No member of this organization has the email {change.add_member_email}."
            )
        change.levels[(MEMBER, member.pk)] = change.add_level
    if change.add_group_name:
        group = org.groups.filter(name__iexact=change.add_group_name.strip()).first()
        if group is None:
            raise CollectionError(
                f"No group of this organization is named {change.add_group_name}."
            )
        change.levels[(GROUP, group.pk)] = change.add_level


def _apply_grants(
    *, grants_model, owner_field: str, collection: Collection, wanted: dict, labels: dict
) -> AccessDiff:
    """Bring one kind of grant (members or groups) of the collection to `wanted` levels."""
    diff = AccessDiff()
    existing = {
        getattr(grant, f"{owner_field}_id"): grant
        for grant in grants_model.objects.select_for_update().filter(
            collection=collection, **{f"{owner_field}_id__in": list(wanted)}
        )
    }
    to_delete, to_update, to_create = [], [], []
    for pk, level in wanted.items():
        grant = existing.get(pk)
        who = labels[pk]
        if grant is None and level:
            to_create.append(
                grants_model(collection=collection, level=level, **{f"{owner_field}_id": pk})
            )
            diff.added.append([who, level])
        elif grant is not None and not level:
            to_delete.append(grant.pk)
            diff.removed.append([who, grant.level])
        elif grant is not None and grant.level != level:
            diff.changed.append([who, grant.level, level])
            grant.level = level
            to_update.append(grant)
    grants_model.objects.filter(pk__in=to_delete).delete()
    grants_model.objects.bulk_update(to_update, ["level"])
    grants_model.objects.bulk_create(to_create)
    return diff


@transaction.atomic
def collection_access_update(
    *,
    actor: Actor,
    management: CollectionManagement,
    collection: Collection,
    change: AccessChange,
) -> AccessDiff:
    """Set the levels of the members and groups named; one event lists what changed."""
    org = actor.org
    collection = _lock_managed(management, collection.pk, org)
    _resolve_additions(org, change)
    for level in change.levels.values():
        if level is not None and level not in AccessLevel.values:
            raise CollectionError("Choose a level from the list.")
    member_ids = {pk for kind, pk in change.levels if kind == MEMBER}
    group_ids = {pk for kind, pk in change.levels if kind == GROUP}
    member_emails = dict(org.memberships.filter(pk__in=member_ids).values_list("pk", "email"))
    group_names = dict(org.groups.filter(pk__in=group_ids).values_list("pk", "name"))
    if len(member_emails) != len(member_ids) or len(group_names) != len(group_ids):
        raise CollectionError("Some of the members or groups are not in this organization.")
    diff = AccessDiff()
    for grants_model, owner_field, kind, labels in (
        (CollectionGroupGrant, "group", GROUP, group_names),
        (CollectionMemberGrant, "membership", MEMBER, member_emails),
    ):
        part = _apply_grants(
            grants_model=grants_model,
            owner_field=owner_field,
            collection=collection,
            wanted={pk: level for (k, pk), level in change.levels.items() if k == kind},
            labels=labels,
        )
        diff.added += part.added
        diff.removed += part.removed
        diff.changed += part.changed
    if diff:
        record_org_event(
            EventType.COLLECTION_UPDATED,
            actor=actor,
            obj=collection,
            details={"name": collection.name, "access": diff.as_details()},
        )
    return diff
