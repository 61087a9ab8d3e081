"""Every write on the vault: keyword-only, the actor explicit, one transaction, one event.

Each write locks the item, asks the permission layer for a grant on it, and
refuses with a `VaultError` (a message the user can act on) when the item was
changed, trashed, moved away or deleted meanwhile; nothing is half-saved.
Events name items by id only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from clients.models import Collection, Organization
from portal.access import Actor, ItemGrant, VaultAccess
from portal.events import record_event, record_org_event
from portal.models import EventType

from .content import (
    CustomFieldKind,
    ItemContent,
    masked_field_names,
    secret_field_names,
    with_password_history,
    with_ssh_fingerprint,
)
from .crypto import ItemUnreadable, KeyChain, open_item_for_write, seal_item
from .models import Favorite, Item
from .name_index import names_record
from .tallies import tally_change

logger = logging.getLogger("vault")

TRASH_RETENTION = timedelta(days=30)


class VaultError(Exception):
    """A write refused for a reason the user can act on; the message says what to do."""


class ItemChanged(VaultError):
    """Someone else saved the item (edited or moved it) after the form was opened."""


class ItemGone(VaultError):
    """The item was trashed, deleted, or moved out of the actor's reach meanwhile."""


GONE_MESSAGE = (
    "This item was deleted, or moved where you no longer have access, since you opened it. "
    "Nothing was saved."
)


@dataclass(frozen=True)
class LockedItem:
    item: Item
    grant: ItemGrant
    collection_ids: frozenset[UUID]


def _lock_item(access: VaultAccess, item_id: UUID) -> LockedItem:
    item = Item.objects.select_for_update().filter(org=access.org, pk=item_id).first()
    if item is None:
        raise ItemGone(GONE_MESSAGE)
    collection_ids = frozenset(item.collections.values_list("pk", flat=True))
    grant = access.grant_item(org_id=item.org_id, item_id=item.pk, collection_ids=collection_ids)
    if grant is None:
        raise ItemGone(GONE_MESSAGE)
    return LockedItem(item=item, grant=grant, collection_ids=collection_ids)


def _require_edit(locked: LockedItem, revision: int | None = None) -> None:
    if not locked.grant.can_edit:
        raise VaultError("You can view this item but not change it. Ask for edit access.")
    if revision is None:
        return
    if locked.item.in_trash:
        raise ItemGone(
            "This item was moved to the trash since you opened it. Nothing was saved; "
            "restore it from the trash to edit it again."
        )
    if locked.item.revision != revision:
        raise ItemChanged(
            "Someone changed this item (edited or moved it) since you opened it. Nothing was "
            "saved. Check the current version, then save again to replace it with yours."
        )


def _checked_collections(access: VaultAccess, collection_ids: Iterable[UUID]) -> set[UUID]:
    """Collections of this org that the actor may put items into; refuses anything else."""
    wanted = set(collection_ids)
    found = set(
        Collection.objects.filter(org=access.org, pk__in=wanted).values_list("pk", flat=True)
    )
    if found != wanted:
        raise VaultError("A chosen collection does not belong to this organization.")
    if not all(access.can_add_to(pk) for pk in wanted):
        raise VaultError("You cannot add items to one of the chosen collections.")
    return wanted


def _validated(content: ItemContent) -> ItemContent:
    content = with_ssh_fingerprint(content)
    content.validate()
    return content


# --------------------------------------------------------------------------
# Create, edit, move
# --------------------------------------------------------------------------


@transaction.atomic
def item_create(
    *,
    access: VaultAccess,
    content: ItemContent,
    collection_ids: Iterable[UUID],
    reprompt: bool = False,
) -> Item:
    content = _validated(content)
    if content.type in access.hidden_item_types:  # the item_saved hook of org policies
        raise VaultError(
            "This organization's policy removes this item type: it cannot be created. "
            "Choose another type."
        )
    collections = _checked_collections(access, collection_ids)
    if not collections:
        raise VaultError("Choose at least one collection for the item.")
    keychain = KeyChain(access.org.pk)
    data_key_row, data_key = keychain.members_data_key()
    item_id = uuid.uuid4()
    sealed = seal_item(content, org_id=access.org.pk, item_id=item_id, data_key=data_key)
    now = timezone.now()
    item = Item.objects.create(
        id=item_id,
        org=access.org,
        type=content.type,
        data_key=data_key_row,
        name_ciphertext=sealed.name_ciphertext,
        data_ciphertext=sealed.data_ciphertext,
        reprompt=reprompt,
        created_at=now,
        updated_at=now,
    )
    item.collections.set(collections)
    tally_change(org_id=access.org.pk, collection_ids=collections, delta=1)
    names_record(
        org_id=access.org.pk,
        data_key_row=data_key_row,
        data_key=data_key,
        entries=[(item_id, sealed.name_ciphertext, content.name)],
    )
    record_org_event(EventType.ITEM_CREATED, actor=access.actor, obj=item)
    _record_rejected_keys(keychain, access.actor)
    return item


@dataclass(frozen=True)
class ItemEdit:
    """An edit from the form. A secret field left out of `content.fields` keeps its value,
    and a hidden custom field whose value is None keeps its value too."""

    content: ItemContent
    reprompt: bool = False
    cleared_secrets: frozenset[str] = frozenset()


@transaction.atomic
def item_update(*, access: VaultAccess, item_id: UUID, revision: int, edit: ItemEdit) -> Item:
    locked = _lock_item(access, item_id)
    _require_edit(locked, revision)
    item = locked.item
    if edit.content.type != item.type:
        raise VaultError("An item keeps its type; create a new item of the other type instead.")
    keychain = KeyChain(access.org.pk)
    current = open_item_for_write(locked.grant, item, keychain)
    now = timezone.now()
    merged = _merge_edit(current, edit, can_see_secrets=locked.grant.can_see_secrets)
    merged = _validated(with_password_history(current, merged, now=now))
    data_key_row, data_key = keychain.members_data_key()
    sealed = seal_item(merged, org_id=item.org_id, item_id=item.pk, data_key=data_key)
    item.data_key = data_key_row
    item.name_ciphertext = sealed.name_ciphertext
    item.data_ciphertext = sealed.data_ciphertext
    item.reprompt = edit.reprompt
    item.updated_at = now
    item.revision += 1
    item.save(
        update_fields=[
            "data_key",
            "name_ciphertext",
            "data_ciphertext",
            "reprompt",
            "updated_at",
            "revision",
        ]
    )
    names_record(
        org_id=item.org_id,
        data_key_row=data_key_row,
        data_key=data_key,
        entries=[(item.pk, sealed.name_ciphertext, merged.name)],
    )
    record_org_event(EventType.ITEM_UPDATED, actor=access.actor, obj=item)
    _record_rejected_keys(keychain, access.actor)
    return item


def _record_rejected_keys(keychain: KeyChain, actor: Actor) -> None:
    """Members' data keys passed over for failing their tag: logged and audited with the write."""
    for failure in keychain.rejected:
        item_unreadable_record(failure=failure, actor=actor)


def _merge_edit(current: ItemContent, edit: ItemEdit, *, can_see_secrets: bool) -> ItemContent:
    fields = dict(edit.content.fields)
    for name in secret_field_names(current.type):
        if can_see_secrets and name in edit.cleared_secrets:
            fields.pop(name, None)
        elif not can_see_secrets or name not in fields:
            # Kept: edit forms never show secrets, and "except passwords" editors never send them.
            fields.pop(name, None)
            if current.get(name):
                fields[name] = current.get(name)
    custom_fields = _merge_custom_fields(current, edit.content, can_see_secrets=can_see_secrets)
    return replace(edit.content, fields=fields, custom_fields=custom_fields)


def _merge_custom_fields(current: ItemContent, new: ItemContent, *, can_see_secrets: bool):
    current_hidden = {f.id: f for f in current.custom_fields if f.kind == CustomFieldKind.HIDDEN}
    if not can_see_secrets:
        # Hidden fields were never in the form: keep them as they are, whatever was sent.
        visible = [
            f
            for f in new.custom_fields
            if f.kind != CustomFieldKind.HIDDEN and f.id not in current_hidden
        ]
        return (*visible, *current_hidden.values())
    merged = []
    for custom in new.custom_fields:
        if custom.kind == CustomFieldKind.HIDDEN and custom.value is None:
            kept = current_hidden.get(custom.id)
            custom = replace(custom, value=kept.value if kept else "")
        merged.append(custom)
    return tuple(merged)


@transaction.atomic
def item_move(
    *, access: VaultAccess, item_id: UUID, revision: int, collection_ids: Iterable[UUID]
) -> Item:
    """Put the item in the chosen collections. Collections the actor cannot change keep it."""
    locked = _lock_item(access, item_id)
    _require_edit(locked, revision)
    fixed = {pk for pk in locked.collection_ids if not access.can_add_to(pk)}
    chosen = _checked_collections(access, set(collection_ids) - fixed)
    new_ids = fixed | chosen
    if not new_ids:
        raise VaultError("Choose at least one collection: an item lives in one or more.")
    if new_ids == locked.collection_ids:
        return locked.item
    item = locked.item
    item.collections.set(new_ids)
    if not item.in_trash:
        org_id, old_ids = item.org_id, locked.collection_ids
        tally_change(org_id=org_id, collection_ids=old_ids - new_ids, delta=-1, org=False)
        tally_change(org_id=org_id, collection_ids=new_ids - old_ids, delta=1, org=False)
    item.revision += 1
    item.updated_at = timezone.now()
    item.save(update_fields=["revision", "updated_at"])
    record_org_event(
        EventType.ITEM_MOVED,
        actor=access.actor,
        obj=item,
        details={
            "from": sorted(str(pk) for pk in locked.collection_ids),
            "to": sorted(str(pk) for pk in new_ids),
        },
    )
    return item


# --------------------------------------------------------------------------
# Trash
# --------------------------------------------------------------------------


@transaction.atomic
def item_trash(*, access: VaultAccess, item_id: UUID) -> Item:
    locked = _lock_item(access, item_id)
    _require_edit(locked)
    item = locked.item
    if item.in_trash:
        return item
    item.deleted_at = timezone.now()
    item.revision += 1
    item.save(update_fields=["deleted_at", "revision"])
    tally_change(org_id=item.org_id, collection_ids=locked.collection_ids, delta=-1)
    record_org_event(EventType.ITEM_TRASHED, actor=access.actor, obj=item)
    return item


@transaction.atomic
def item_restore(*, access: VaultAccess, item_id: UUID) -> Item:
    locked = _lock_item(access, item_id)
    _require_edit(locked)
    item = locked.item
    if not item.in_trash:
        return item
    item.deleted_at = None
    item.revision += 1
    item.save(update_fields=["deleted_at", "revision"])
    tally_change(org_id=item.org_id, collection_ids=locked.collection_ids, delta=1)
    record_org_event(EventType.ITEM_RESTORED, actor=access.actor, obj=item)
    return item


@transaction.atomic
def item_delete(*, access: VaultAccess, item_id: UUID) -> None:
    """Delete for good; only from the trash, so that one click never loses an item."""
    locked = _lock_item(access, item_id)
    _require_edit(locked)
    if not locked.item.in_trash:
        raise VaultError("Move the item to the trash first; it can be deleted for good from there.")
    record_org_event(EventType.ITEM_DELETED, actor=access.actor, obj=locked.item)
    locked.item.delete()


def items_purge_trash(*, older_than: timedelta = TRASH_RETENTION, batch_size: int = 500) -> int:
    """Delete for good what has been in the trash longer than `older_than`; one event each."""
    cutoff = timezone.now() - older_than
    purged = 0
    while True:
        with transaction.atomic():
            batch = list(
                Item.objects.select_for_update(skip_locked=True)
                .filter(deleted_at__lt=cutoff)
                .only("pk", "org_id")[:batch_size]
            )
            if not batch:
                return purged
            for item in batch:
                record_event(
                    EventType.ITEM_DELETED,
                    org=Organization(pk=item.org_id),
                    obj=item,
                    details={"reason": "in the trash for 30 days"},
                )
            Item.objects.filter(pk__in=[item.pk for item in batch]).delete()
            purged += len(batch)


# --------------------------------------------------------------------------
# Favourites (per user, not audited: they change nobody else's view)
# --------------------------------------------------------------------------


def item_favorite_set(*, grant: ItemGrant, favorite: bool) -> None:
    user = grant.actor.user
    if favorite:
        Favorite.objects.get_or_create(user=user, item_id=grant.item_id)
    else:
        Favorite.objects.filter(user=user, item_id=grant.item_id).delete()


# --------------------------------------------------------------------------
# Reading secrets: each one is its own audited request
# --------------------------------------------------------------------------

_REVEAL_EVENTS = {
    "password": EventType.ITEM_PASSWORD_REVEALED,
    "totp": EventType.ITEM_TOTP_REVEALED,
    "code": EventType.ITEM_CARD_CODE_REVEALED,
    "number": EventType.ITEM_CARD_NUMBER_REVEALED,
    "private_key": EventType.ITEM_PASSWORD_REVEALED,
    "custom": EventType.ITEM_HIDDEN_FIELD_REVEALED,
    "history": EventType.ITEM_PASSWORD_REVEALED,
}


def secret_value(content: ItemContent, target: str) -> str | None:
    """The password-class value named by `target` ("password", "custom:<id>", "history:<n>")."""
    kind, _, key = target.partition(":")
    if kind == "custom":
        for custom in content.custom_fields:
            if custom.id == key and custom.kind == CustomFieldKind.HIDDEN:
                return custom.value or None
        return None
    if kind == "history":
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        index = int(key) if key.isascii() and key.isdigit() else -1
        history = content.password_history
        return history[index].password if 0 <= index < len(history) else None
    if kind in secret_field_names(content.type):
        return content.get(kind) or None
    return None


def item_secret_reveal(*, grant: ItemGrant, content: ItemContent, target: str) -> str:
    """Return one secret (or masked value) to show, and record that it was shown."""
    if target in masked_field_names(content.type):
        value = content.get(target) or None  # masked for the eye, not password-class
    else:
        value = secret_value(content, target) if grant.can_see_secrets else None
    if value is None:
        raise VaultError("There is no such secret on this item, or your access does not show it.")
    kind = target.partition(":")[0]
    record_org_event(
        _REVEAL_EVENTS[kind], actor=grant.actor, obj=Item(pk=grant.item_id), details={"field": kind}
    )
    return value


def item_password_copy(*, grant: ItemGrant, content: ItemContent) -> str:
    value = secret_value(content, "password") if grant.can_see_secrets else None
    if value is None:
        raise VaultError("This item has no password you can copy.")
    record_org_event(EventType.ITEM_PASSWORD_COPIED, actor=grant.actor, obj=Item(pk=grant.item_id))
    return value


def item_view_record(*, grant: ItemGrant) -> None:
    record_org_event(EventType.ITEM_VIEWED, actor=grant.actor, obj=Item(pk=grant.item_id))


def item_unreadable_record(*, failure: ItemUnreadable, actor: Actor | None = None) -> None:
    """A stored value failed to open: log it and audit it, by ids only.

    Every path that meets an `ItemUnreadable` ends here (pages, searches, operator
    commands), so each failure is logged once whatever its cause (tampering, a missing
    key, a malformed body). Call it outside the transaction the failure rolled back.
    """
    logger.error("Vault value could not be opened: %s", failure)
    record_event(
        EventType.ITEM_DECRYPTION_FAILED,
        user=actor.user if actor is not None else None,
        acting_provider=actor.acting_provider if actor is not None else None,
        org=Organization(pk=failure.org_id),
        obj=Item(pk=failure.item_id) if failure.item_id else None,
        details=failure.details(),
    )
