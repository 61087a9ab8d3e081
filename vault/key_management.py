"""The life of the keys: an org's key pair, data keys, rotation and verification.

Operators drive rotation and verification through manage.py commands; these
functions do the work and return counts. Each org is handled in its own
transaction, so an interrupted run leaves every org either done or untouched,
and running again finishes the job (resumable and idempotent).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from uuid import UUID

from django.db import transaction

from clients.models import Organization

from .crypto import (
    ItemUnreadable,
    KeyChain,
    authenticated_public_key,
    check_data_key_row,
    decrypt_item_unchecked,
    unwrap_org_key,
)
from .keyring import configured_keyring
from .keys import (
    KeyRing,
    generate_data_key,
    generate_org_key_pair,
    seal_data_key,
    tag_data_key,
    tag_org_public_key,
    wrap_org_private_key,
)
from .models import DataKey, DataKeyPurpose, Item, OrgKey
from .name_index import index_start, name_index_verify
from .services import item_unreadable_record


@transaction.atomic
def org_keys_create(*, org: Organization, keyring: KeyRing | None = None) -> OrgKey:
    """Give a new org its key pair (version 1) and its first data key for members' writes."""
    keyring = keyring or configured_keyring()
    org_key = _org_key_create(org=org, version=1, keyring=keyring)
    row, data_key = data_key_create_for_writing(
        org=org, purpose=DataKeyPurpose.MEMBERS, keyring=keyring
    )
    index_start(org_id=org.pk, data_key_row=row, data_key=data_key)  # complete: no item yet
    return org_key


def _org_key_create(*, org: Organization, version: int, keyring: KeyRing) -> OrgKey:
    """A new key pair: the private half wrapped by the active KEK, the public half tagged."""
    private_key, public_key = generate_org_key_pair()
    wrapped = wrap_org_private_key(private_key, org_id=org.pk, version=version, keyring=keyring)
    row_tag = tag_org_public_key(public_key, org_id=org.pk, version=version, keyring=keyring)
    return OrgKey.objects.create(
        org=org,
        version=version,
        public_key=public_key,
        public_key_tag=row_tag.tag,
        wrapped_private_key=wrapped.ciphertext,
        kek_id=wrapped.kek_id,
    )


def data_key_create(*, org: Organization, purpose: str, keyring: KeyRing | None = None) -> DataKey:
    """A fresh data key sealed to the org's authenticated public key (the row only)."""
    row, _data_key = data_key_create_for_writing(org=org, purpose=purpose, keyring=keyring)
    return row


@transaction.atomic
def data_key_create_for_writing(
    *, org: Organization, purpose: str, keyring: KeyRing | None = None
) -> tuple[DataKey, bytes]:
    """A fresh data key sealed to the org's authenticated public key, and the key itself.

    Needs no secret (imports use this to write under a key they made): the org's
    private key is never unwrapped. A public key whose tag fails raises
    `ItemUnreadable`, so nothing is sealed to a key someone planted in the database.
    """
    keyring = keyring or configured_keyring()
    org_key = _locked_active_org_key(org.pk)
    data_key_id = uuid.uuid4()
    data_key = generate_data_key()
    sealed = seal_data_key(
        data_key,
        org_public_key=authenticated_public_key(org_key, keyring=keyring),
        org_id=org.pk,
        data_key_id=data_key_id,
    )
    row = DataKey(
        id=data_key_id,
        org=org,
        sealed_key=sealed,
        org_key_version=org_key.version,
        purpose=purpose,
    )
    _tag_data_key_row(row, keyring)
    row.save(force_insert=True)
    return row, data_key


def _tag_data_key_row(row: DataKey, keyring: KeyRing) -> None:
    row_tag = tag_data_key(
        bytes(row.sealed_key),
        org_id=row.org_id,
        data_key_id=row.pk,
        org_key_version=row.org_key_version,
        purpose=row.purpose,
        keyring=keyring,
    )
    row.tag_kek_id, row.tag = row_tag.kek_id, row_tag.tag


def _locked_active_org_key(org_id: UUID) -> OrgKey:
    """The org's active key pair, its row locked until the caller's transaction ends.

    Sealing a data key and rotating the org key both take this lock, so a data key is
    never sealed to a key pair that a running rotation is about to delete. Who waited
    for a rotation finds the old row inactive once it commits; a second read (a new
    statement, which sees the committed rotation) finds the new one.
    """
    for _attempt in range(2):
        org_key = OrgKey.objects.select_for_update().filter(org_id=org_id, active=True).first()
        if org_key is not None:
            return org_key
    raise OrgKey.DoesNotExist(f"org {org_id} has no active key pair")


# --------------------------------------------------------------------------
# Rotation
# --------------------------------------------------------------------------


@dataclass
class KekRotationReport:
    rewrapped: int = 0
    already_current: int = 0
    failed: list[UUID] = field(default_factory=list)  # org ids


def keks_rotate(*, keyring: KeyRing | None = None) -> KekRotationReport:
    """Move every org under the active KEK: rewrap its private keys, re-tag its key rows.

    One transaction per org. Each tag is checked under the old KEK before it is made
    again under the new one, so a row planted in the database is reported, never
    blessed by the rotation.
    """
    keyring = keyring or configured_keyring()
    report = KekRotationReport()
    active = keyring.active_id
    pending = set(OrgKey.objects.exclude(kek_id=active).values_list("org_id", flat=True))
    pending |= set(DataKey.objects.exclude(tag_kek_id=active).values_list("org_id", flat=True))
    report.already_current = Organization.objects.exclude(pk__in=pending).count()
    for org_id in sorted(pending):
        try:
            if _move_org_to_active_kek(org_id, keyring):
                report.rewrapped += 1
            else:
                report.already_current += 1
        except ItemUnreadable as failure:
            item_unreadable_record(failure=failure)
            report.failed.append(failure.org_id)
    return report


@transaction.atomic
def _move_org_to_active_kek(org_id: UUID, keyring: KeyRing) -> bool:
    active = keyring.active_id
    org_keys = [
        row
        for row in OrgKey.objects.select_for_update().filter(org_id=org_id).order_by("version")
        if row.kek_id != active
    ]
    data_keys = [
        row
        for row in DataKey.objects.select_for_update().filter(org_id=org_id)
        if row.tag_kek_id != active
    ]
    if not org_keys and not data_keys:
        return False  # done by a concurrent run
    for row in org_keys:
        public_key = authenticated_public_key(row, keyring=keyring)
        private_key = unwrap_org_key(row, keyring=keyring)
        wrapped = wrap_org_private_key(
            private_key, org_id=row.org_id, version=row.version, keyring=keyring
        )
        row_tag = tag_org_public_key(
            public_key, org_id=row.org_id, version=row.version, keyring=keyring
        )
        row.wrapped_private_key, row.kek_id = wrapped.ciphertext, wrapped.kek_id
        row.public_key_tag = row_tag.tag
        row.save(update_fields=["wrapped_private_key", "kek_id", "public_key_tag"])
    for row in data_keys:
        check_data_key_row(row, keyring=keyring)
        _tag_data_key_row(row, keyring)
    DataKey.objects.bulk_update(data_keys, ["tag_kek_id", "tag"], batch_size=500)
    return True


@dataclass
class OrgKeyRotationReport:
    new_version: int
    data_keys_resealed: int


def org_key_rotate(*, org: Organization, keyring: KeyRing | None = None) -> OrgKeyRotationReport:
    """A new key pair for the org; every data key resealed to it; items untouched.

    All or nothing, in one transaction: a data key that fails to open stops the
    rotation with nothing changed (the failure is logged and recorded), and running
    it again after an interruption starts from a consistent state. The old private
    key is deleted at the end: once nothing is sealed to it, keeping it would only
    keep a possibly exposed key alive.
    """
    keyring = keyring or configured_keyring()
    try:
        return _org_key_rotate(org, keyring)
    except ItemUnreadable as failure:
        item_unreadable_record(failure=failure)  # after the rollback, so that it stays
        raise


@transaction.atomic
def _org_key_rotate(org: Organization, keyring: KeyRing) -> OrgKeyRotationReport:
    current = _locked_active_org_key(org.pk)
    keychain = KeyChain(org.pk, keyring=keyring)
    data_keys = list(DataKey.objects.select_for_update().filter(org=org))
    opened = {row.pk: _open_for_rotation(keychain, row) for row in data_keys}
    new_version = current.version + 1
    OrgKey.objects.filter(pk=current.pk).update(active=False)
    new_key = _org_key_create(org=org, version=new_version, keyring=keyring)
    for row in data_keys:
        row.sealed_key = seal_data_key(
            opened[row.pk],
            org_public_key=bytes(new_key.public_key),
            org_id=org.pk,
            data_key_id=row.pk,
        )
        row.org_key_version = new_version
        _tag_data_key_row(row, keyring)
    DataKey.objects.bulk_update(
        data_keys, ["sealed_key", "org_key_version", "tag_kek_id", "tag"], batch_size=500
    )
    OrgKey.objects.filter(org=org).exclude(version=new_version).delete()
    return OrgKeyRotationReport(new_version=new_version, data_keys_resealed=len(data_keys))


def _open_for_rotation(keychain: KeyChain, row: DataKey) -> bytes:
    keychain.load_data_keys([row.pk])
    return keychain.data_key(row.pk)


# --------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------


@dataclass
class VerifyReport:
    orgs: int = 0
    data_keys: int = 0
    items: int = 0
    failures: list[ItemUnreadable] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def vault_verify(
    *, org: Organization | None = None, keyring: KeyRing | None = None
) -> VerifyReport:
    """Open every org key, data key and item (of one org, or all); list what fails."""
    keyring = keyring or configured_keyring()
    report = VerifyReport()
    orgs = Organization.objects.filter(pk=org.pk) if org else Organization.objects.all()
    for org_id in orgs.order_by("pk").values_list("pk", flat=True).iterator():
        report.orgs += 1
        _verify_org(org_id, keyring, report)
    for failure in report.failures:
        item_unreadable_record(failure=failure)
    return report


def _verify_org(org_id: UUID, keyring: KeyRing, report: VerifyReport) -> None:
    keychain = KeyChain(org_id, keyring=keyring)
    active = OrgKey.objects.filter(org_id=org_id, active=True).first()
    if active is None:
        report.failures.append(ItemUnreadable("org key (missing)", org_id=org_id))
        return
    try:
        # Opened first, and on its own: an org without data keys is checked too, and an
        # unreadable org key is one failure, not one per data key and item behind it.
        authenticated_public_key(active, keyring=keyring)
        keychain.private_key(active.version)
    except ItemUnreadable as failure:
        report.failures.append(failure)
        return
    for data_key_id in DataKey.objects.filter(org_id=org_id).values_list("pk", flat=True):
        report.data_keys += 1
        try:
            keychain.data_key(data_key_id)
        except ItemUnreadable as failure:
            report.failures.append(failure)
    items = Item.objects.filter(org_id=org_id).only(
        "pk", "org_id", "type", "data_key_id", "name_ciphertext", "data_ciphertext"
    )
    for item in items.iterator(chunk_size=2000):
        report.items += 1
        try:
            decrypt_item_unchecked(item, keychain)
        except ItemUnreadable as failure:
            report.failures.append(failure)
    report.failures += name_index_verify(org_id=org_id, keychain=keychain)
