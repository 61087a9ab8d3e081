"""Round trip: an export of every item type and field, read back by the Bitwarden importer,
gives the same items field by field, for each format that can carry them: the plain and
the password-protected JSON carry every type; the CSV carries logins and secure notes
(as Bitwarden's does). Each also goes through the import pipeline into another org.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import datetime

import pytest

from vault.content import ItemContent
from vault.exports.services import vault_export_start
from vault.imports.formats.base import ImportLimits, ParsedItem
from vault.imports.formats.bitwarden_encrypted_json import (
    KdfSettings,
    decrypt_password_protected,
)
from vault.imports.formats.bitwarden_json import parse as parse_bitwarden_json

from ..conftest import access_for
from .conftest import every_type


def comparable(content: ItemContent) -> ItemContent:
    """Ids of custom fields are ours; dates compare as instants; the fingerprint is computed."""
    fields = {k: v for k, v in content.fields.items() if k != "fingerprint"}
    return replace(
        content,
        fields=fields,
        custom_fields=tuple(replace(f, id="") for f in content.custom_fields),
        password_history=tuple(
            replace(p, changed_at=datetime.fromisoformat(p.changed_at.replace("Z", "+00:00")))
            for p in content.password_history
        ),
    )


def export_text(world, export_format: str, **options) -> bytes:
    access = access_for(world.alice, world.org)
    export = vault_export_start(
        actor=access.actor, access=access, export_format=export_format, **options
    )
    return "".join(export.chunks).encode()


def assert_same_items(plain_json: bytes, world) -> None:
    parsed = list(parse_bitwarden_json(io.BytesIO(plain_json), ImportLimits()))
    assert all(isinstance(p, ParsedItem) for p in parsed), parsed
    by_name = {p.content.name: p for p in parsed}
    originals = every_type()
    assert len(parsed) == len(originals)
    for original in originals:
        item = by_name[original.name]
        assert comparable(item.content) == comparable(original), original.type
        assert item.collections == ("Shared",)
    assert by_name["Bank login"].reprompt is True
    assert not by_name["Alarm code"].reprompt


def test_plain_json_round_trip(export_world):
    assert_same_items(export_text(export_world, "bitwarden_json"), export_world)


@pytest.mark.parametrize(
    "kdf",
    [KdfSettings(), KdfSettings(kdf_type=1, iterations=3, memory_mib=16, parallelism=2)],
    ids=["pbkdf2", "argon2id"],
)
def test_password_protected_round_trip(export_world, kdf):
    raw = export_text(
        export_world, "bitwarden_encrypted_json", file_password="file-pass-123", kdf=kdf
    )
    document = json.loads(raw)
    assert document["kdfType"] == kdf.kdf_type
    if kdf.kdf_type == 1:
        assert document["kdfMemory"] == 16 and document["kdfParallelism"] == 2
    assert_same_items(decrypt_password_protected(raw, "file-pass-123"), export_world)


@pytest.mark.parametrize("export_format", ["bitwarden_json", "bitwarden_encrypted_json"])
def test_export_imported_into_another_org_gives_the_same_items(export_world, export_format):
    """Through the import pipeline (the worker's code, in-process) into charlie's org."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from vault.crypto import KeyChain, open_item
    from vault.imports.services import import_job_create, import_job_run
    from vault.selectors import item_access

    w = export_world
    raw = export_text(w, export_format, file_password="file-pass-123")
    charlie = access_for(w.charlie, w.other_org)
    job = import_job_create(
        actor=charlie.actor,
        org=w.other_org,
        upload=SimpleUploadedFile("export.json", raw),
        format_key="",  # detected from the file
        collection=None,
        # The import form's file password opens the password-protected export.
        file_password="file-pass-123" if export_format == "bitwarden_encrypted_json" else "",
        enqueue=False,
    )
    job = import_job_run(job_id=job.pk)
    assert job.status == "succeeded", (job.status, getattr(job, "error", ""))
    keychain = KeyChain(w.other_org.pk)
    imported = {}
    for item in w.other_org.items.exclude(pk=w.other_item.pk):
        found = item_access(access=charlie, item_id=item.pk)
        content = open_item(found.grant, found.item, keychain)
        imported[content.name] = (content, item.reprompt, [c.name for c in found.collections])
    originals = every_type()
    assert set(imported) == {o.name for o in originals}
    for original in originals:
        content, _, collections = imported[original.name]
        assert comparable(content) == comparable(original), original.type
        assert collections == ["Shared"]
    assert imported["Bank login"][1] is True


def test_csv_round_trip_carries_logins_and_notes(export_world):
    """Bitwarden's CSV has no columns for cards, identities, SSH keys or password history:
    its logins and notes come back with every field the format has."""
    from portal.csv import neutralise
    from vault.imports.formats.bitwarden_csv import parse as parse_bitwarden_csv

    raw = export_text(export_world, "bitwarden_csv")
    parsed = list(parse_bitwarden_csv(io.BytesIO(raw), ImportLimits()))
    assert all(isinstance(p, ParsedItem) for p in parsed), parsed
    by_name = {p.content.name: p for p in parsed}
    # A cell a spreadsheet would run as a formula comes back as exported: neutralised.
    carried = [
        replace(
            o,
            name=neutralise(o.name),
            notes=neutralise(o.notes),
            fields={key: neutralise(value) for key, value in o.fields.items()},
        )
        for o in every_type()
        if o.type in ("login", "secure_note")
    ]
    assert set(by_name) == {o.name for o in carried}
    for original in carried:
        # No CSV column for the password history; the fields column ("name: value" lines)
        # carries no kind, so every custom field comes back as text, as in Bitwarden.
        expected = replace(
            original,
            password_history=(),
            custom_fields=tuple(replace(f, kind="text") for f in original.custom_fields),
        )
        if original.type == "login":
            # The CSV's login_uri column carries the URIs, not their match rules.
            expected = replace(
                expected, uris=tuple(replace(u, match="default") for u in original.uris)
            )
        assert comparable(by_name[original.name].content) == comparable(expected), original.name
        assert by_name[original.name].collections == ("Shared",)
