"""LastPass's CSV export: url,username,password,totp,extra,name,grouping,fav.

A secure note has the url "http://sn" and its text in `extra`. Notes of LastPass's
structured types start with "NoteType:<type>" and hold one "Key:Value" per line:
credit cards become cards and addresses become identities; other types stay notes
with their lines. `grouping` is the folder ("Parent\\Child"), which becomes a
collection "Parent/Child"; `fav` is 1 for favourites. Older exports lack `totp`.
"""

from __future__ import annotations

from typing import BinaryIO

from vault.content import CARD_BRANDS, IDENTITY_TITLES, ItemContent, ItemType

from .base import Format, ImportLimits, Parsed, ParsedItem, register
from .common import header_has, login, name_or_default, read_csv, secure_note, uris_of

REQUIRED = ("url", "username", "password", "extra", "name", "grouping", "fav")
SECURE_NOTE_URL = "http://sn"
LABEL = "LastPass (.csv)"
MONTHS = {
    name: f"{number:02d}"
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
CARD_KEYS = {"Name on Card": "cardholder_name", "Number": "number", "Security Code": "code"}
ADDRESS_KEYS = {
    "Title": "title",
    "First Name": "first_name",
    "Middle Name": "middle_name",
    "Last Name": "last_name",
    "Username": "username",
    "Company": "company",
    "Address 1": "address1",
    "Address 2": "address2",
    "Address 3": "address3",
    "City / Town": "city",
    "State": "state",
    "Zip / Postal Code": "postal_code",
    "Country": "country",
    "Email Address": "email",
    "Phone": "phone",
}


def detect(head: bytes) -> bool:
    return header_has(head, set(REQUIRED))


def parse(stream: BinaryIO, limits: ImportLimits) -> Parsed:
    for row_number, row in read_csv(stream, limits, required=REQUIRED, label=LABEL):
        yield _item(row, where=f"row {row_number}")


def _item(row: dict[str, str], *, where: str) -> ParsedItem:
    name = name_or_default(row.get("name"))
    if row.get("url", "").strip() == SECURE_NOTE_URL:
        content = _note(name, row.get("extra", ""))
    else:
        url = row.get("url", "").strip()
        content = login(
            name,
            username=row.get("username", ""),
            password=row.get("password", ""),
            totp=row.get("totp", "").strip(),
            uris=uris_of([url] if url and url != "http://" else []),
            notes=row.get("extra", ""),
        )
    grouping = row.get("grouping", "").strip().replace("\\", "/")
    return ParsedItem(
        content=content,
        collections=(grouping,) if grouping and grouping != "(none)" else (),
        favorite=row.get("fav", "0").strip() == "1",
        where=where,
    )


def _note(name: str, extra: str) -> ItemContent:
    values, other_lines = _note_lines(extra)
    note_type = values.pop("NoteType", "")
    if note_type == "Credit Card":
        fields = {ours: values.pop(theirs, "") for theirs, ours in CARD_KEYS.items()}
        fields.update(_card_brand(values.pop("Type", "")))
        fields.update(_expiry(values.pop("Expiration Date", "")))
        return _structured(ItemType.CARD, name, fields, values, other_lines)
    if note_type == "Address":
        fields = {ours: values.pop(theirs, "") for theirs, ours in ADDRESS_KEYS.items()}
        if fields.get("title") and fields["title"] not in IDENTITY_TITLES:
            values["Title"] = fields.pop("title")
        return _structured(ItemType.IDENTITY, name, fields, values, other_lines)
    return secure_note(name, extra)


def _note_lines(extra: str) -> tuple[dict[str, str], list[str]]:
    """("Key:Value" lines as a dict, the other lines) when the note has a NoteType."""
    if not extra.startswith("NoteType:"):
        return {}, []
    values: dict[str, str] = {}
    other: list[str] = []
    lines = extra.splitlines()
    for position, line in enumerate(lines):
        key, separator, value = line.partition(":")
        if key == "Notes" and separator:
            other.append("\n".join([value, *lines[position + 1 :]]))  # notes run to the end
            break
        if separator and key and key not in values:
            values[key] = value
        elif line.strip():
            other.append(line)
    return values, other


def _structured(item_type, name, fields, leftover: dict[str, str], other_lines) -> ItemContent:
    leftover_lines = [f"{key}: {value}" for key, value in leftover.items() if value.strip()]
    return ItemContent(
        type=item_type,
        name=name,
        fields={key: value for key, value in fields.items() if value},
        notes="\n".join([*other_lines, *leftover_lines]).strip(),
    )


def _card_brand(value: str) -> dict[str, str]:
    if not value.strip():
        return {}
    known = {brand.lower(): brand for brand in CARD_BRANDS}
    return {"brand": known.get(value.strip().lower(), "Other")}


def _expiry(value: str) -> dict[str, str]:
    """LastPass writes "June,2027"."""
    month, _separator, year = value.partition(",")
    fields = {}
    if month.strip().lower() in MONTHS:
        fields["exp_month"] = MONTHS[month.strip().lower()]
    if year.strip().isdigit() and len(year.strip()) == 4:
        fields["exp_year"] = year.strip()
    return fields


FORMAT = register(Format(key="lastpass_csv", label=LABEL, parse=parse, detect=detect))
