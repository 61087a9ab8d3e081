"""1Password's 1PUX export: a zip holding `export.attributes` and `export.data` (JSON).

    export.data = {"accounts": [{"attrs": {...}, "vaults": [
        {"attrs": {"uuid", "name", "type", ...}, "items": [
            {"uuid", "favIndex", "createdAt", "updatedAt", "state", "categoryUuid",
             "details": {"loginFields": [{"value", "name", "fieldType", "designation"}],
                         "notesPlain", "password", "passwordHistory": [{"value", "time"}],
                         "sections": [{"title", "name", "fields": [
                             {"title", "id", "value": {"<type>": ...}}]}]},
             "overview": {"title", "url", "urls": [{"label", "url"}], "tags"}}]}]}]}

Categories: 001 login, 002 credit card, 003 secure note, 004 identity, 005 password,
114 SSH key; server, database, router, email account and API credential become logins
(as Bitwarden does); anything else a secure note whose fields are custom fields. Vaults
become collections. Field values are typed: string, concealed (hidden), totp, email,
phone, url, date, monthYear, creditCardType, creditCardNumber, address, sshKey, menu.

The zip is checked before anything is read from it: entries whose paths climb out or
are absolute, more entries than an export has, and declared sizes or compression ratios
of a zip bomb are refused, and no more than the declared size is ever read (a lying
header cannot make us inflate more). `export.data` is read as a stream (ijson).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

import ijson

from vault.content import (
    PASSWORD_HISTORY_MAX,
    CustomField,
    CustomFieldKind,
    ItemContent,
    ItemType,
    LoginUri,
    PasswordChange,
)

from .base import Format, ImportLimits, ImportRejected, Parsed, ParsedItem, RowError, register
from .common import name_or_default

LABEL = "1Password (.1pux)"
DATA_ENTRY = "export.data"
MAX_ENTRIES = 100_000  # attachments come as files/…; far more is not an export
MAX_DATA_BYTES = 1024 * 1024 * 1024  # export.data, uncompressed
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024  # every entry, as declared
MAX_RATIO = 200  # JSON compresses about 10:1; a bomb, a thousand and more
RATIO_FLOOR = 1024 * 1024  # small entries may compress as they like
_SPOOL_BYTES = 16 * 1024 * 1024

LOGIN_CATEGORIES = {"001", "005", "102", "109", "110", "111", "112"}
CATEGORY_TYPES = {"002": ItemType.CARD, "003": ItemType.SECURE_NOTE, "004": ItemType.IDENTITY}
SSH_KEY_CATEGORY = "114"
CARD_FIELD_IDS = {"cardholder": "cardholder_name", "ccnum": "number", "cvv": "code"}
CARD_TYPES = {
    "visa": "Visa",
    "mc": "Mastercard",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "maestro": "Maestro",
    "unionpay": "UnionPay",
}
IDENTITY_FIELD_IDS = {
    "firstname": "first_name",
    "initial": "middle_name",
    "lastname": "last_name",
    "company": "company",
    "email": "email",
    "defphone": "phone",
    "username": "username",
}
LOGIN_FIELD_IDS = {"username": "username", "password": "password", "credential": "password"}


def _export_again() -> str:
    return f"Export the account again as {LABEL} and upload that file; nothing was imported."


def detect(head: bytes) -> bool:
    # A zip whose first entries name 1PUX's files (the central directory is at the end,
    # but local headers carry the names too).
    return head.startswith(b"PK\x03\x04") and (b"export.data" in head or b"export.attr" in head)


def parse(stream: BinaryIO, limits: ImportLimits) -> Parsed:
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        shutil.copyfileobj(stream, spool)
        spool.seek(0)
        try:
            archive = zipfile.ZipFile(spool)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
            raise ImportRejected(
                f"This is not a {LABEL} file: it is not a zip archive. " + _export_again()
            ) from exc
        with archive:
            data_info = _checked_entries(archive)
            try:
                with archive.open(data_info) as raw:
                    yield from _items(_Capped(raw, data_info.file_size), limits)
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                NotImplementedError,
                RuntimeError,
                ValueError,  # offsets that point outside the file
                OSError,
            ) as exc:
                raise ImportRejected(
                    "The archive is damaged or uses a compression we cannot read. "
                    + _export_again()
                ) from exc


def _checked_entries(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """export.data's entry, once every entry of the archive is found safe."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ImportRejected(
            f"The archive has more than {MAX_ENTRIES:,} entries. " + _export_again()
        )
    total = 0
    data_info = None
    for info in infos:
        if _climbs_out(info.filename):
            raise ImportRejected(
                "The archive has an entry whose path is absolute or climbs out of it ('../'); "
                "1Password never writes such a file. It was refused for safety."
            )
        total += info.file_size
        ratio_too_high = info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        )
        if ratio_too_high or total > MAX_TOTAL_BYTES:
            raise ImportRejected(
                "The archive would unpack to far more than it holds (a zip bomb); it was "
                "refused for safety. " + _export_again()
            )
        if info.filename == DATA_ENTRY:
            data_info = info
    if data_info is None:
        raise ImportRejected(
            f"This is not a {LABEL} file: it has no export.data. " + _export_again()
        )
    if data_info.file_size > MAX_DATA_BYTES:
        raise ImportRejected("The archive's export.data is larger than we import at once.")
    return data_info


def _climbs_out(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return True
    if len(name) > 1 and name[1] == ":":  # C:...
        return True
    return ".." in PurePosixPath(name).parts


class _Capped:
    """A reader that never gives more than the entry's declared size (a lying header)."""

    def __init__(self, raw, declared: int):
        self._raw = raw
        self._left = declared

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 64 * 1024
        chunk = self._raw.read(min(size, self._left + 1))
        self._left -= len(chunk)
        if self._left < 0:
            raise ImportRejected(
                "export.data unpacks to more than its header declares; the archive was refused "
                "for safety. " + _export_again()
            )
        return chunk


# --------------------------------------------------------------------------
# export.data as a stream
# --------------------------------------------------------------------------

_VAULT_ATTRS = "accounts.item.vaults.item.attrs"
_ITEM = "accounts.item.vaults.item.items.item"


def _items(reader: _Capped, limits: ImportLimits) -> Parsed:
    vault_name = ""
    builder: ijson.ObjectBuilder | None = None
    builder_prefix = ""
    item_number = 0
    saw_accounts = False
    for prefix, event, value in _checked_events(reader, limits):
        if prefix == "accounts" and event == "start_array":
            saw_accounts = True
        if builder is not None:
            builder.event(event, value)
            if prefix == builder_prefix and event in ("end_map", "end_array"):
                done, builder = builder.value, None
                if builder_prefix == _ITEM:
                    item_number += 1
                    parsed = parsed_item(done, vault_name, where=f"item {item_number}")
                    if parsed is not None:
                        yield parsed
                elif isinstance(done, dict) and isinstance(done.get("name"), str):
                    vault_name = done["name"].strip()
            continue
        if prefix == "accounts.item.vaults.item" and event == "start_map":
            vault_name = ""
        if prefix in (_VAULT_ATTRS, _ITEM) and event == "start_map":
            builder, builder_prefix = ijson.ObjectBuilder(), prefix
            builder.event(event, value)
        elif prefix == _ITEM:
            item_number += 1
            yield RowError(f"item {item_number}", "The item is not a JSON object; skipped.")
    if not saw_accounts:
        raise ImportRejected(
            f"This is not a {LABEL} file: export.data lists no accounts. " + _export_again()
        )


def _checked_events(reader, limits: ImportLimits):
    depth = 0
    try:
        for prefix, event, value in ijson.parse(reader, use_float=True):
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > limits.max_depth:
                    raise ImportRejected(
                        f"export.data is nested more than {limits.max_depth} levels deep. "
                        + _export_again()
                    )
            elif event in ("end_map", "end_array"):
                depth -= 1
            elif event == "string" and len(value) > limits.max_field_chars:
                raise ImportRejected(
                    f"A value in the file is longer than {limits.max_field_chars:,} characters, "
                    "the most one field may hold. Nothing was imported."
                )
            if prefix == "" and event not in ("start_map", "map_key", "end_map"):
                raise ImportRejected(f"This is not a {LABEL} file. " + _export_again())
            yield prefix, event, value
    except ijson.JSONError as exc:
        raise ImportRejected(
            "export.data is not valid JSON, or is cut short. " + _export_again()
        ) from exc
    except UnicodeDecodeError as exc:
        raise ImportRejected("export.data is not UTF-8 text. " + _export_again()) from exc


# --------------------------------------------------------------------------
# One item
# --------------------------------------------------------------------------


class _Builder:
    """Collects an item's values as its fields are read."""

    def __init__(self, item_type: str):
        self.type = item_type
        self.fields: dict[str, str] = {}
        self.custom: list[CustomField] = []
        self.uris: list[str] = []

    def set(self, name: str, value: str) -> bool:
        """Fill a type field if it is still empty; False when it is taken (keep as custom)."""
        if not value or self.fields.get(name):
            return not value
        self.fields[name] = value
        return True

    def add_custom(self, name: str, value: str, kind: str = CustomFieldKind.TEXT) -> None:
        if value:
            self.custom.append(
                CustomField(id=CustomField.new_id(), name=name or "Field", kind=kind, value=value)
            )


def parsed_item(item: Any, vault_name: str, *, where: str) -> ParsedItem | RowError | None:
    if not isinstance(item, dict):
        return RowError(where, "The item is not a JSON object; skipped.")
    if item.get("state") == "deleted" or item.get("trashed") is True:
        return None  # 1Password's trash: not imported, as Bitwarden does
    try:
        return _parsed_item(item, vault_name, where)
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError, OSError):
        return RowError(where, "The item's fields are not of the types 1Password writes; skipped.")


def _parsed_item(item: dict, vault_name: str, where: str) -> ParsedItem:
    category = str(item.get("categoryUuid") or "")
    details = _dict(item.get("details"))
    overview = _dict(item.get("overview"))
    if category in LOGIN_CATEGORIES:
        item_type = ItemType.LOGIN
    elif category == SSH_KEY_CATEGORY:
        item_type = ItemType.SSH_KEY
    else:
        item_type = CATEGORY_TYPES.get(category, ItemType.SECURE_NOTE)
    builder = _Builder(item_type)
    if item_type == ItemType.LOGIN:
        _login_fields(builder, details)
        builder.uris = _urls(overview)
    for section in _list(details.get("sections")):
        for field in _list(_dict(section).get("fields")):
            _section_field(builder, _dict(field))
    content = ItemContent(
        type=item_type,
        name=name_or_default(_text(overview.get("title"))),
        fields=builder.fields,
        uris=tuple(LoginUri(uri) for uri in dict.fromkeys(builder.uris) if uri),
        notes=_text(details.get("notesPlain")),
        custom_fields=tuple(builder.custom),
        password_history=_history(details) if item_type == ItemType.LOGIN else (),
    )
    return ParsedItem(
        content=content,
        collections=(vault_name,) if vault_name else (),
        favorite=isinstance(item.get("favIndex"), int) and item["favIndex"] > 0,
        where=where,
    )


def _login_fields(builder: _Builder, details: dict) -> None:
    builder.set("password", _text(details.get("password")))  # category 005, "Password"
    for field in _list(details.get("loginFields")):
        field = _dict(field)
        value = _text(field.get("value"))
        designation = field.get("designation")
        if designation in ("username", "password") and builder.set(designation, value):
            continue
        if field.get("fieldType") in ("B", "S") or not value:
            continue  # buttons and submit: nothing to keep
        kind = CustomFieldKind.HIDDEN if field.get("fieldType") == "P" else CustomFieldKind.TEXT
        if field.get("fieldType") == "C":
            kind, value = CustomFieldKind.BOOLEAN, "true" if value == "✓" else "false"
        builder.add_custom(_text(field.get("name")), value, kind)


def _urls(overview: dict) -> list[str]:
    urls = [_text(_dict(u).get("url")).strip() for u in _list(overview.get("urls"))]
    main = _text(overview.get("url")).strip()
    return [main, *urls] if main else urls


def _section_field(builder: _Builder, field: dict) -> None:
    value = _dict(field.get("value"))
    if not value:
        return
    kind, raw = next(iter(value.items()))
    field_id = _text(field.get("id"))
    title = _text(field.get("title")) or field_id
    if kind == "sshKey":
        _ssh_key(builder, _dict(raw))
    elif kind == "totp":
        if not (builder.type == ItemType.LOGIN and builder.set("totp", _text(raw))):
            builder.add_custom(title, _text(raw), CustomFieldKind.HIDDEN)
    elif kind == "monthYear" and builder.type == ItemType.CARD and field_id == "expiry":
        _card_expiry(builder, raw)
    elif kind == "creditCardType" and builder.type == ItemType.CARD:
        builder.set("brand", CARD_TYPES.get(_text(raw).lower(), "Other"))
    elif kind == "address":
        _address(builder, title, _dict(raw))
    elif kind not in ("file", "reference"):
        _typed_value(builder, kind, field_id, title, raw)


def _typed_value(builder: _Builder, kind: str, field_id: str, title: str, raw: Any) -> None:
    text = _value_text(kind, raw)
    ours = _field_for(builder.type, field_id, kind)
    if ours and builder.set(ours, text):
        return
    hidden = kind == "concealed"
    builder.add_custom(title, text, CustomFieldKind.HIDDEN if hidden else CustomFieldKind.TEXT)


def _field_for(item_type: str, field_id: str, kind: str) -> str | None:
    if item_type == ItemType.CARD:
        return CARD_FIELD_IDS.get(field_id)
    if item_type == ItemType.IDENTITY:
        return IDENTITY_FIELD_IDS.get(field_id)
    if item_type == ItemType.LOGIN:
        return LOGIN_FIELD_IDS.get(field_id)
    return None


def _value_text(kind: str, raw: Any) -> str:
    if kind == "date" and isinstance(raw, int | float) and not isinstance(raw, bool):
        return datetime.fromtimestamp(raw, tz=UTC).date().isoformat()
    if kind == "monthYear" and isinstance(raw, int) and raw > 0:
        return f"{raw % 100:02d}/{raw // 100}"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return str(raw)
    return _text(raw)


def _card_expiry(builder: _Builder, raw: Any) -> None:
    if isinstance(raw, int) and 1 <= raw % 100 <= 12:
        builder.set("exp_month", f"{raw % 100:02d}")
        builder.set("exp_year", str(raw // 100))


def _address(builder: _Builder, title: str, address: dict) -> None:
    parts = {
        "address1": _text(address.get("street")),
        "city": _text(address.get("city")),
        "state": _text(address.get("state")),
        "postal_code": _text(address.get("zip")),
        "country": _text(address.get("country")),
    }
    if builder.type == ItemType.IDENTITY:
        for name, value in parts.items():
            builder.set(name, value)
        return
    builder.add_custom(title, ", ".join(value for value in parts.values() if value))


def _ssh_key(builder: _Builder, key: dict) -> None:
    metadata = _dict(key.get("metadata"))
    private_key = _text(key.get("privateKey")) or _text(metadata.get("privateKey"))
    if builder.type == ItemType.SSH_KEY:
        builder.set("private_key", private_key)
        builder.set("public_key", _text(metadata.get("publicKey")))
    else:
        builder.add_custom("Private key", private_key, CustomFieldKind.HIDDEN)


def _history(details: dict) -> tuple[PasswordChange, ...]:
    changes = []
    for entry in _list(details.get("passwordHistory"))[:PASSWORD_HISTORY_MAX]:
        entry = _dict(entry)
        password = _text(entry.get("value"))
        moment = entry.get("time")
        if not password:
            continue
        changed_at = ""
        if isinstance(moment, int | float) and not isinstance(moment, bool):
            changed_at = datetime.fromtimestamp(moment, tz=UTC).isoformat()
        changes.append(PasswordChange(password=password, changed_at=changed_at))
    return tuple(changes)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


FORMAT = register(Format(key="onepassword_1pux", label=LABEL, parse=parse, detect=detect))
