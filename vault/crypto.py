"""Django glue for the key hierarchy: opening org keys and data keys, sealing items.

`vault.keys` holds the primitives; this module knows the rows. Opening an item
needs an `ItemGrant` that only the permission layer (`portal.access`) issues,
so no page can decrypt what the access check did not allow. Plaintext lives in
a `KeyChain` for one request or one command, never longer.

Every failure to open raises `ItemUnreadable` (ids only, never contents); the
caller records the event once the transaction it ran in is over.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import F, FilteredRelation, Q, QuerySet

from portal.access import ItemGrant, VaultAccess
from portal.prepared import PreparedQuery

from .content import ContentError, ItemContent
from .keyring import configured_keyring
from .keys import (
    DecryptionFailed,
    IntegrityCheckFailed,
    InvalidKeyConfiguration,
    KeyRing,
    RowTag,
    UnknownKeyVersion,
    WrappedKey,
    check_data_key,
    check_org_public_key,
    decrypt_field,
    encrypt_field,
    open_data_key,
    unwrap_org_private_key,
)
from .models import DataKey, DataKeyPurpose, Item, OrgKey

logger = logging.getLogger("vault")

NAME_FIELD = "name"
BODY_FIELD = "data"
_CANNOT_OPEN = (DecryptionFailed, UnknownKeyVersion, InvalidKeyConfiguration)


class ItemUnreadable(Exception):
    """A stored vault value could not be opened. Says which row, never what it holds."""

    def __init__(
        self,
        what: str,
        *,
        org_id: UUID,
        item_id: UUID | None = None,
        data_key_id: UUID | None = None,
    ):
        self.what = what
        self.org_id = org_id
        self.item_id = item_id
        self.data_key_id = data_key_id
        super().__init__(f"could not open {what} (org={org_id} item={item_id} key={data_key_id})")

    def details(self) -> dict[str, str]:
        details = {"what": self.what}
        if self.data_key_id is not None:
            details["data_key"] = str(self.data_key_id)
        return details


class OrgKeyMissing(ItemUnreadable):
    """No org key pair of the version a data key is sealed to."""

    def __init__(self, *, org_id: UUID, data_key_id: UUID | None = None):
        super().__init__("org key (missing)", org_id=org_id, data_key_id=data_key_id)


def _org_key(org_id, *, version: int) -> QuerySet[OrgKey]:
    return OrgKey.objects.filter(org_id=org_id, version=version).order_by("pk")[:1]


def _data_keys(org_id, data_key_ids) -> QuerySet[DataKey]:
    """The data key rows, each with the row of the org key it is sealed to (at most one:
    an org has one key per version), so that opening them asks nothing more."""
    sealed_to = Q(org__vault_keys__version=F("org_key_version"))
    return (
        DataKey.objects.filter(org_id=org_id, pk__in=data_key_ids)
        .annotate(sealed_to_org_key=FilteredRelation("org__vault_keys", condition=sealed_to))
        .select_related("sealed_to_org_key")
    )


# Every page that opens an item or a name reads its keys: prepared once per process
# (portal/prepared.py). Each key version is a shape; an org has a few.
_ORG_KEY = PreparedQuery(_org_key)
_DATA_KEYS = PreparedQuery(_data_keys)


class KeyChain:
    """One org's keys, opened at most once each while a request or command runs."""

    def __init__(self, org_id: UUID, *, keyring: KeyRing | None = None):
        self.org_id = org_id
        self._keyring = keyring
        self._private_keys: dict[int, bytes] = {}
        self._data_keys: dict[UUID, bytes] = {}
        self._failed: dict[UUID, ItemUnreadable] = {}
        # Rows a caller read already (joined to an item): used instead of a query, and
        # checked exactly as rows read here are.
        self._org_key_rows: dict[int, OrgKey] = {}
        self._data_key_rows: dict[UUID, DataKey] = {}
        # Members' data keys passed over because their tag failed: the caller records them.
        self.rejected: list[ItemUnreadable] = []

    @property
    def keyring(self) -> KeyRing:
        if self._keyring is None:
            self._keyring = configured_keyring()
        return self._keyring

    def adopt_rows(self, *, data_key: DataKey | None, org_key: OrgKey | None) -> None:
        """Key rows the caller has read already, so that opening them asks the database
        nothing more. Rows of another org are ignored (and so looked up as usual); the
        data key's tag is still checked before it is used, the org key is unwrapped under
        its KEK with the org and version bound, exactly as for rows read here."""
        if data_key is not None and data_key.org_id == self.org_id:
            self._data_key_rows.setdefault(data_key.pk, data_key)
        if org_key is not None and org_key.org_id == self.org_id:
            self._org_key_rows.setdefault(org_key.version, org_key)

    def private_key(self, version: int) -> bytes:
        if version not in self._private_keys:
            row = self._org_key_rows.pop(version, None)
            if row is None:
                row = _ORG_KEY.first(self.org_id, version=version)
            if row is None:
                raise OrgKeyMissing(org_id=self.org_id)
            self._private_keys[version] = unwrap_org_key(row, keyring=self.keyring)
        return self._private_keys[version]

    def load_data_keys(self, data_key_ids: Iterable[UUID]) -> None:
        """Open every listed data key not opened yet, reading their rows in one query."""
        missing = set(data_key_ids) - self._data_keys.keys() - self._failed.keys()
        if not missing:
            return
        adopted = [self._data_key_rows.pop(pk) for pk in missing & self._data_key_rows.keys()]
        missing -= {row.pk for row in adopted}
        rows = _DATA_KEYS.fetch(self.org_id, list(missing)) if missing else []
        for row in rows:
            self.adopt_rows(data_key=None, org_key=getattr(row, "sealed_to_org_key", None))
        for row in [*adopted, *rows]:
            try:
                self._data_keys[row.pk] = self._open(row)
            except ItemUnreadable as failure:
                self._failed[row.pk] = failure  # raised again by data_key(), not retried

    def data_key(self, data_key_id: UUID) -> bytes:
        self.load_data_keys([data_key_id])
        if data_key_id in self._failed:
            raise self._failed[data_key_id]
        if data_key_id not in self._data_keys:
            raise ItemUnreadable("data key (missing)", org_id=self.org_id, data_key_id=data_key_id)
        return self._data_keys[data_key_id]

    def any_open_data_key(self) -> tuple[UUID | None, bytes | None]:
        """A data key this chain has already opened (no query), or (None, None)."""
        for data_key_id, data_key in self._data_keys.items():
            return data_key_id, data_key
        return None, None

    def members_data_key(self) -> tuple[DataKey, bytes]:
        """The org's newest authenticated data key for members' writes, opened.

        A newer row whose tag fails (planted by someone who can write rows, perhaps
        dated in the future so that it would be chosen) is passed over and listed in
        `rejected`; writes go on under the newest genuine key.
        """
        candidates = DataKey.objects.filter(
            org_id=self.org_id, purpose=DataKeyPurpose.MEMBERS
        ).order_by("-created_at")[:_MEMBERS_KEY_CANDIDATES]
        for row in candidates:
            if row.pk not in self._data_keys:
                try:
                    self._data_keys[row.pk] = self._open(row)
                except ItemUnreadable as failure:
                    self.rejected.append(failure)
                    continue
            return row, self._data_keys[row.pk]
        if self.rejected:
            raise self.rejected[0]  # the newest key's own reason, for the log and the event
        raise ItemUnreadable("data key (none for members)", org_id=self.org_id)

    def _open(self, row: DataKey) -> bytes:
        check_data_key_row(row, keyring=self.keyring)
        try:
            private_key = self.private_key(row.org_key_version)
        except OrgKeyMissing:
            # An org key rotation committed after this row was read: it resealed the row
            # to the new key pair and deleted the old one. Read the row as it is now.
            row = self._reread(row)
            check_data_key_row(row, keyring=self.keyring)
            private_key = self.private_key(row.org_key_version)
        try:
            return open_data_key(
                bytes(row.sealed_key),
                org_private_key=private_key,
                org_id=self.org_id,
                data_key_id=row.pk,
            )
        except DecryptionFailed as exc:
            raise ItemUnreadable("data key", org_id=self.org_id, data_key_id=row.pk) from exc

    def _reread(self, row: DataKey) -> DataKey:
        fresh = DataKey.objects.filter(org_id=self.org_id, pk=row.pk).first()
        if fresh is None or fresh.org_key_version == row.org_key_version:
            raise OrgKeyMissing(org_id=self.org_id, data_key_id=row.pk)
        return fresh


def unwrap_org_key(row: OrgKey, *, keyring: KeyRing) -> bytes:
    try:
        return unwrap_org_private_key(
            WrappedKey(kek_id=row.kek_id, ciphertext=bytes(row.wrapped_private_key)),
            org_id=row.org_id,
            version=row.version,
            keyring=keyring,
        )
    except _CANNOT_OPEN as exc:
        _log_cannot_open(f"Org key v{row.version} (row {row.pk})", row.org_id, row.kek_id, exc)
        raise ItemUnreadable("org key", org_id=row.org_id) from exc


# --------------------------------------------------------------------------
# Row tags (see vault.keys): checked before a key row is used
# --------------------------------------------------------------------------

# How many of the newest members' data keys a write looks through for a genuine one.
_MEMBERS_KEY_CANDIDATES = 10


def org_key_row_tag(row: OrgKey) -> RowTag:
    return RowTag(kek_id=row.kek_id, tag=bytes(row.public_key_tag or b""))


def data_key_row_tag(row: DataKey) -> RowTag:
    return RowTag(kek_id=row.tag_kek_id, tag=bytes(row.tag or b""))


def authenticated_public_key(row: OrgKey, *, keyring: KeyRing) -> bytes:
    """The row's public key once its tag vouches for it: the only key anything is sealed to."""
    public_key = bytes(row.public_key)
    try:
        check_org_public_key(
            org_key_row_tag(row),
            public_key,
            org_id=row.org_id,
            version=row.version,
            keyring=keyring,
        )
    except _CANNOT_TRUST as exc:
        _log_cannot_open(f"Public key v{row.version} (row {row.pk})", row.org_id, row.kek_id, exc)
        raise ItemUnreadable("org public key", org_id=row.org_id) from exc
    return public_key


def check_data_key_row(row: DataKey, *, keyring: KeyRing) -> None:
    """ItemUnreadable unless the row's tag vouches for its org, id, version, purpose and bytes."""
    try:
        check_data_key(
            data_key_row_tag(row),
            bytes(row.sealed_key),
            org_id=row.org_id,
            data_key_id=row.pk,
            org_key_version=row.org_key_version,
            purpose=row.purpose,
            keyring=keyring,
        )
    except _CANNOT_TRUST as exc:
        _log_cannot_open(f"Data key {row.pk}", row.org_id, row.tag_kek_id, exc)
        raise ItemUnreadable("data key", org_id=row.org_id, data_key_id=row.pk) from exc


_CANNOT_TRUST = (IntegrityCheckFailed, UnknownKeyVersion, InvalidKeyConfiguration)


def _log_cannot_open(what: str, org_id: UUID, kek_id: str, exc: Exception) -> None:
    """One operator line that says why: a missing KEK and a forged row need different work."""
    if isinstance(exc, UnknownKeyVersion):
        reason = f"needs key-encryption key {kek_id!r}, which is not configured"
    elif isinstance(exc, InvalidKeyConfiguration):
        reason = "cannot be checked: no key-encryption key is configured"
    elif isinstance(exc, IntegrityCheckFailed):
        reason = "failed its integrity check (written without the vault key?); not used"
    else:
        reason = "failed to decrypt under its key-encryption key (tampered or damaged)"
    logger.error("%s of org %s %s.", what, org_id, reason)


# --------------------------------------------------------------------------
# Items
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedItem:
    name_ciphertext: bytes
    data_ciphertext: bytes


def seal_item(content: ItemContent, *, org_id: UUID, item_id: UUID, data_key: bytes) -> SealedItem:
    """Encrypt the name and the body apart, each bound to its org, item and field."""
    where = {"data_key": data_key, "org_id": org_id, "item_id": item_id}
    return SealedItem(
        name_ciphertext=encrypt_field(content.name.encode(), field=NAME_FIELD, **where),
        data_ciphertext=encrypt_field(content.body_json(), field=BODY_FIELD, **where),
    )


def open_item(grant: ItemGrant, item: Item, keychain: KeyChain) -> ItemContent:
    """The item as its grant's holder may see it: password-class secrets only at "view" and up."""
    _require_grant(grant, item)
    content = _decrypt_item(item, keychain)
    return content if grant.can_see_secrets else content.without_secrets()


def open_item_for_write(grant: ItemGrant, item: Item, keychain: KeyChain) -> ItemContent:
    """The whole item, secrets included, for services merging an edit. Never for display."""
    _require_grant(grant, item)
    if not grant.can_edit:
        raise PermissionDenied("This grant does not allow editing.")
    return _decrypt_item(item, keychain)


def decrypt_item_unchecked(item: Item, keychain: KeyChain) -> ItemContent:
    """For operator commands (verify_vault), which run outside any actor's request."""
    return _decrypt_item(item, keychain)


# (item id, data key id, name ciphertext): plain tuples, as a search opens thousands at once.
NameRow = tuple[UUID, UUID, bytes]


def open_names(
    access: VaultAccess, rows: Iterable[NameRow], keychain: KeyChain
) -> tuple[dict[UUID, str], list[ItemUnreadable]]:
    """Names of rows the access check selected; failures are returned, not skipped silently."""
    if not isinstance(access, VaultAccess) or access.org.pk != keychain.org_id:
        raise PermissionDenied("Names are opened with the org's vault access only.")
    rows = list(rows)
    data_keys, failures = _open_each_data_key({row[1] for row in rows}, keychain)
    names: dict[UUID, str] = {}
    org_id = keychain.org_id
    for item_id, data_key_id, blob in rows:
        data_key = data_keys.get(data_key_id)
        try:
            if data_key is None:
                raise DecryptionFailed("data key unavailable")
            names[item_id] = decrypt_field(
                blob, data_key=data_key, org_id=org_id, item_id=item_id, field=NAME_FIELD
            ).decode()
        except (DecryptionFailed, UnicodeDecodeError):
            failures.append(
                ItemUnreadable("item name", org_id=org_id, item_id=item_id, data_key_id=data_key_id)
            )
    return names, failures


def _open_each_data_key(data_key_ids: set[UUID], keychain: KeyChain):
    keychain.load_data_keys(data_key_ids)  # one query for all of them
    opened: dict[UUID, bytes] = {}
    failures: list[ItemUnreadable] = []
    for data_key_id in data_key_ids:
        try:
            opened[data_key_id] = keychain.data_key(data_key_id)
        except ItemUnreadable as failure:
            failures.append(failure)
    return opened, failures


def _require_grant(grant: ItemGrant, item: Item) -> None:
    if not isinstance(grant, ItemGrant) or grant.item_id != item.pk or grant.org_id != item.org_id:
        raise PermissionDenied("Items are opened with a grant for that very item only.")


def _decrypt_item(item: Item, keychain: KeyChain) -> ItemContent:
    if item.org_id != keychain.org_id:
        raise ItemUnreadable("item (wrong org key chain)", org_id=item.org_id, item_id=item.pk)
    name = _decrypt_text(item.name_ciphertext, NAME_FIELD, keychain, item.pk, item.data_key_id)
    body = _decrypt_bytes(item.data_ciphertext, BODY_FIELD, keychain, item.pk, item.data_key_id)
    try:
        return ItemContent.from_body_json(item_type=item.type, name=name, body=body)
    except (ValueError, KeyError, TypeError, ContentError) as exc:
        raise ItemUnreadable("item body (malformed)", org_id=item.org_id, item_id=item.pk) from exc


def _decrypt_text(blob, field: str, keychain: KeyChain, item_id: UUID, data_key_id: UUID) -> str:
    plaintext = _decrypt_bytes(blob, field, keychain, item_id, data_key_id)
    try:
        return plaintext.decode()
    except UnicodeDecodeError as exc:
        raise ItemUnreadable(f"item {field}", org_id=keychain.org_id, item_id=item_id) from exc


def _decrypt_bytes(blob, field: str, keychain: KeyChain, item_id: UUID, data_key_id: UUID) -> bytes:
    try:
        data_key = keychain.data_key(data_key_id)
    except ItemUnreadable as failure:
        raise ItemUnreadable(
            failure.what, org_id=keychain.org_id, item_id=item_id, data_key_id=data_key_id
        ) from failure
    try:
        return decrypt_field(
            bytes(blob), data_key=data_key, org_id=keychain.org_id, item_id=item_id, field=field
        )
    except DecryptionFailed as exc:
        raise ItemUnreadable(
            f"item {field}", org_id=keychain.org_id, item_id=item_id, data_key_id=data_key_id
        ) from exc
