"""Bitwarden's CSV export, both headers (logins and secure notes only, as Bitwarden writes).

- Individual: folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,
  login_password,login_totp
- Organization: collections,type,name,notes,fields,reprompt,login_uri,login_username,
  login_password,login_totp

`type` is "login" or "note"; `fields` holds one "name: value" per line; `login_uri` and
`collections` are comma-separated lists; `favorite` and `reprompt` are 0 or 1. Folders
become collections.
"""

from __future__ import annotations

from typing import BinaryIO

from vault.content import CustomField

from .base import Format, ImportLimits, Parsed, ParsedItem, register
from .common import (
    header_has,
    login,
    name_or_default,
    read_csv,
    secure_note,
    split_csv_cell,
    text_field,
    uris_of,
)

COMMON_COLUMNS = (
    "type",
    "name",
    "notes",
    "fields",
    "login_uri",
    "login_username",
    "login_password",
    "login_totp",
)
LABEL = "Bitwarden (.csv)"


def detect(head: bytes) -> bool:
    return header_has(head, set(COMMON_COLUMNS)) and (
        header_has(head, {"folder"}) or header_has(head, {"collections"})
    )


def parse(stream: BinaryIO, limits: ImportLimits) -> Parsed:
    for row_number, row in read_csv(stream, limits, required=COMMON_COLUMNS, label=LABEL):
        yield _item(row, where=f"row {row_number}")


def _item(row: dict[str, str], *, where: str) -> ParsedItem:
    name = name_or_default(row.get("name"))
    custom_fields = _custom_fields(row.get("fields", ""))
    if row.get("type", "").strip().lower() == "note":
        content = secure_note(name, row.get("notes", ""), custom_fields)
    else:
        content = login(
            name,
            username=row.get("login_username", ""),
            password=row.get("login_password", ""),
            totp=row.get("login_totp", "").strip(),
            uris=uris_of(split_csv_cell(row.get("login_uri", ""))),
            notes=row.get("notes", ""),
            custom_fields=custom_fields,
        )
    if "collections" in row:
        collections = tuple(split_csv_cell(row["collections"]))
    else:
        folder = row.get("folder", "").strip()
        collections = (folder,) if folder else ()
    return ParsedItem(
        content=content,
        collections=tuple(dict.fromkeys(collections)),
        favorite=row.get("favorite", "0").strip() not in ("", "0"),
        reprompt=row.get("reprompt", "0").strip() == "1",
        where=where,
    )


def _custom_fields(cell: str) -> tuple[CustomField, ...]:
    """One "name: value" per line, split at the last ": " (as Bitwarden reads them)."""
    fields = []
    for line in cell.splitlines():
        if not line.strip():
            continue
        name, separator, value = line.rpartition(": ")
        if not separator:
            continue
        fields.append(text_field(name, value))
    return tuple(fields)


FORMAT = register(Format(key="bitwarden_csv", label=LABEL, parse=parse, detect=detect))
