"""Helpers the text formats share: reading CSV as a stream, and building item contents.

Nothing here quotes a value from the file in a message: rows are named by number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from vault.content import CustomField, CustomFieldKind, ItemContent, ItemType, LoginUri

from .base import ImportLimits, ImportRejected

NUL_MESSAGE = (
    "The file contains NUL bytes, so it is not a text export. Export the data again as "
    "CSV or JSON and upload that file."
)
ENCODING_MESSAGE = (
    "The file is not UTF-8 text (around {where}). Export it again as UTF-8, or open it in a "
    "spreadsheet and save it as 'CSV UTF-8'."
)


def head_text(head: bytes) -> str:
    """The first bytes of a file as text, for detection only (a broken tail is ignored)."""
    return head.decode("utf-8-sig", errors="replace")


def csv_header(head: bytes) -> list[str]:
    """The first CSV row of the file's first bytes, as written (empty when unreadable)."""
    first_line = head_text(head).lstrip("\ufeff").splitlines()[:1]
    if not first_line:
        return []
    try:
        return next(csv.reader(first_line), [])
    except csv.Error:
        return []


def header_has(head: bytes, required: set[str]) -> bool:
    return required <= {column.strip() for column in csv_header(head)}


def read_csv(
    stream: BinaryIO, limits: ImportLimits, *, required: tuple[str, ...], label: str
) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, row by column name) for each data row; ImportRejected for a broken file.

    Row numbers count the header as row 1, as a spreadsheet shows them (a quoted cell may
    span lines; it is still one row). The text is
    decoded as it is read; a field longer than the limit stops the import.
    """
    # Process-wide, as the csv module has it; every CSV format sets it before reading.
    csv.field_size_limit(limits.max_field_chars)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, strict=False)
    try:
        yield from _rows(reader, required=required, label=label)
    except UnicodeDecodeError as exc:
        raise ImportRejected(ENCODING_MESSAGE.format(where=f"line {reader.line_num + 1}")) from exc
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ImportRejected(
                f"Line {reader.line_num} has a field longer than {limits.max_field_chars:,} "
                "characters, the most one field may hold. Nothing was imported."
            ) from exc
        raise ImportRejected(
            f"The file is not valid CSV near line {reader.line_num}. Nothing was imported."
        ) from exc
    finally:
        text.detach()


def _rows(reader, *, required: tuple[str, ...], label: str):
    header = next(reader, None)
    if header is None:
        raise ImportRejected(f"The file is empty. Export your data as {label} and upload it.")
    if any("\x00" in column for column in header):
        raise ImportRejected(NUL_MESSAGE)
    columns = [column.strip() for column in header]
    missing = [name for name in required if name not in columns]
    if missing:
        raise ImportRejected(
            f"This is not a {label} file: the header row lacks the column(s) "
            f"{', '.join(missing)}. Choose the format the file was exported in."
        )
    for row_number, row in enumerate(reader, start=2):
        if any("\x00" in value for value in row):
            raise ImportRejected(NUL_MESSAGE)
        if not row or all(not value.strip() for value in row):
            continue  # blank lines, as spreadsheets leave them
        padded = row + [""] * (len(columns) - len(row))
        yield row_number, dict(zip(columns, padded, strict=False))


def split_csv_cell(value: str) -> list[str]:
    """A cell holding a comma-separated list (URIs, collections), quoted as CSV itself."""
    if not value.strip():
        return []
    try:
        parts = next(csv.reader([value]), [])
    except csv.Error:
        parts = value.split(",")
    return [part.strip() for part in parts if part.strip()]


def uris_of(values: list[str]) -> tuple[LoginUri, ...]:
    return tuple(LoginUri(uri=value) for value in values if value)


def text_field(name: str, value: str) -> CustomField:
    return CustomField(id=CustomField.new_id(), name=name, kind=CustomFieldKind.TEXT, value=value)


def login(
    name: str,
    *,
    username: str = "",
    password: str = "",
    totp: str = "",
    uris: tuple[LoginUri, ...] = (),
    notes: str = "",
    custom_fields: tuple[CustomField, ...] = (),
) -> ItemContent:
    fields = {"username": username, "password": password, "totp": totp}
    return ItemContent(
        type=ItemType.LOGIN,
        name=name,
        fields={key: value for key, value in fields.items() if value},
        uris=uris,
        notes=notes,
        custom_fields=custom_fields,
    )


def secure_note(name: str, notes: str, custom_fields: tuple[CustomField, ...] = ()) -> ItemContent:
    return ItemContent(
        type=ItemType.SECURE_NOTE, name=name, notes=notes, custom_fields=custom_fields
    )


def name_or_default(value: str | None, default: str = "--") -> str:
    """Bitwarden names an item without a name "--"; so do we."""
    value = (value or "").strip()
    return value or default
