"""Starting an export: check, record the event, and hand back the file as a stream.

`vault_export_start` does the checks and writes the one event in its transaction; the
file itself is produced later, while the response is sent, by the generator it returns:
items are read in batches and opened one at a time, and the JSON (or the ciphertext of
it) is written as it goes, so a large org's export never sits whole in memory.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone

from portal.access import Actor, Capability, VaultAccess
from portal.csv import csv_lines
from portal.events import record_org_event
from portal.models import EventType
from vault.crypto import ItemUnreadable, KeyChain
from vault.imports.formats.bitwarden_encrypted_json import (
    EncStringWriter,
    KdfSettings,
    derive_export_keys,
    file_header,
    new_salt,
)
from vault.services import item_unreadable_record

from . import bitwarden
from .selectors import (
    check_data_keys,
    export_collections,
    export_plan,
    opened_items,
)

logger = logging.getLogger("vault")

FILE_PASSWORD_MIN = 8


class ExportFormat(models.TextChoices):
    BITWARDEN_JSON = "bitwarden_json", "Bitwarden JSON (.json)"
    BITWARDEN_CSV = "bitwarden_csv", "Bitwarden CSV (.csv)"
    BITWARDEN_ENCRYPTED_JSON = (
        "bitwarden_encrypted_json",
        "Bitwarden JSON, password protected (.json)",
    )


class ExportError(Exception):
    """An export that cannot start; the message says what to do."""


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    chunks: Iterator[str]
    item_count: int
    left_out: int


def _csv_types() -> set[str]:
    return set(bitwarden.CSV_TYPES)


@transaction.atomic
def vault_export_start(
    *,
    actor: Actor,
    access: VaultAccess | None,
    export_format: str,
    file_password: str = "",
    kdf: KdfSettings | None = None,
    keychain: KeyChain | None = None,
) -> ExportFile:
    """Check the export may start, record it, and return its file as a stream of text.

    Raises ExportError for a choice the user can fix, PermissionDenied for an actor
    without the export capability or vault access, ItemUnreadable when a data key the
    export needs fails to open (checked before anything is sent).
    """
    if not actor.can(Capability.EXPORT) or access is None or access.actor.user != actor.user:
        raise PermissionDenied("Exports need the export permission and vault access.")
    if export_format not in ExportFormat.values:
        raise ExportError("Choose one of the listed formats.")
    encrypted = export_format == ExportFormat.BITWARDEN_ENCRYPTED_JSON
    if encrypted and len(file_password) < FILE_PASSWORD_MIN:
        raise ExportError(f"Choose a file password of at least {FILE_PASSWORD_MIN} characters.")
    keychain = keychain or KeyChain(actor.org.pk)
    check_data_keys(access, keychain)
    only_types = _csv_types() if export_format == ExportFormat.BITWARDEN_CSV else None
    plan = export_plan(access, only_types=only_types)
    record_org_event(
        EventType.VAULT_EXPORTED,
        actor=actor,
        obj=actor.org,
        details={
            "format": export_format,
            "item_count": plan.item_count,
            "left_out": plan.left_out,
        },
    )
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    if export_format == ExportFormat.BITWARDEN_CSV:
        chunks = _csv_chunks(access, keychain)
        filename, content_type = f"org_export_{stamp}.csv", "text/csv; charset=utf-8"
    else:
        chunks = _json_chunks(access, keychain)
        if encrypted:
            chunks = _encrypted_chunks(chunks, file_password, kdf or KdfSettings())
        filename, content_type = f"org_export_{stamp}.json", "application/json"
    return ExportFile(
        filename=filename,
        content_type=content_type,
        chunks=_recording_failures(chunks, actor),
        item_count=plan.item_count,
        left_out=plan.left_out,
    )


def _json_chunks(access: VaultAccess, keychain: KeyChain) -> Iterator[str]:
    """Bitwarden's organization JSON, one item per chunk."""
    org_id = access.org.pk
    collections = [
        bitwarden.collection_json(collection_id=c.pk, org_id=org_id, name=c.name)
        for c in export_collections(access)
    ]
    yield '{"encrypted": false, "collections": ' + _dumps(collections) + ', "items": ['
    separator = "\n"
    for opened in opened_items(access, keychain):
        item = opened.item
        data = bitwarden.item_json(
            opened.content,
            item_id=item.pk,
            org_id=org_id,
            collection_ids=opened.collection_ids,
            reprompt=item.reprompt,
            favorite=opened.favorite,
            created_at=item.created_at,
            updated_at=item.updated_at,
        )
        yield separator + _dumps(data)
        separator = ",\n"
    yield "\n]}\n"


def _csv_chunks(access: VaultAccess, keychain: KeyChain) -> Iterator[str]:
    """Bitwarden's organization CSV; every cell neutralised by portal.csv."""
    rows = (
        bitwarden.csv_row(
            opened.content, collection_names=opened.collection_names, reprompt=opened.item.reprompt
        )
        for opened in opened_items(access, keychain)
        if opened.content.type in bitwarden.CSV_TYPES
    )
    return csv_lines(bitwarden.CSV_HEADER, (row for row in rows if row is not None))


def _encrypted_chunks(plain: Iterator[str], password: str, kdf: KdfSettings) -> Iterator[str]:
    """The password-protected file: the header, then "data" encrypted as the JSON comes."""
    salt = new_salt()
    keys = derive_export_keys(password, salt, kdf)
    header = file_header(salt=salt, kdf=kdf, keys=keys)
    writer = EncStringWriter(keys)

    def chunks() -> Iterator[str]:
        yield _dumps(header)[:-1] + ', "data": "' + writer.start()
        for text in plain:
            yield writer.write(text)
        yield writer.finish() + '"}\n'

    return chunks()


def _recording_failures(chunks: Iterator[str], actor: Actor) -> Iterator[str]:
    """An item that fails to open mid-stream is recorded, then stops the download.

    The file is cut short (so no importer takes it for a whole one) and the server
    drops the connection: the browser reports the download as failed.
    """
    try:
        yield from chunks
    except ItemUnreadable as failure:
        item_unreadable_record(failure=failure, actor=actor)
        raise


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
