"""Bitwarden's unencrypted JSON export, in both shapes.

- Organization: `{"encrypted": false, "collections": [{"id", "name", ...}], "items": [...]}`,
  each item naming its `collectionIds`.
- Individual: `{"encrypted": false, "folders": [{"id", "name"}], "items": [...]}`, each item
  naming its `folderId`; folders become collections.

Items: `type` 1 login, 2 secure note, 3 card, 4 identity, 5 SSH key; `name`, `notes`,
`favorite`, `reprompt`, `fields` (`type` 0 text, 1 hidden, 2 boolean, 3 linked), and
`login` / `card` / `identity` / `sshKey` / `passwordHistory`. Read as a stream with ijson:
collections and folders come before items in Bitwarden's files, so each item is turned
into a `ParsedItem` as soon as it is read. Never the whole file in memory: one item at a
time (and the collections, which are few).
"""

from __future__ import annotations

from typing import Any, BinaryIO

import ijson

from vault.content import (
    CARD_BRANDS,
    PASSWORD_HISTORY_MAX,
    CustomField,
    CustomFieldKind,
    ItemContent,
    ItemType,
    LoginUri,
    PasswordChange,
    UriMatch,
)

from .base import Format, ImportLimits, ImportRejected, Parsed, ParsedItem, RowError, register
from .common import head_text, name_or_default

ITEM_TYPES = {
    1: ItemType.LOGIN,
    2: ItemType.SECURE_NOTE,
    3: ItemType.CARD,
    4: ItemType.IDENTITY,
    5: ItemType.SSH_KEY,
}
URI_MATCHES = {
    None: UriMatch.DEFAULT,
    0: UriMatch.BASE_DOMAIN,
    1: UriMatch.HOST,
    2: UriMatch.STARTS_WITH,
    3: UriMatch.EXACT,
    4: UriMatch.REGEX,
    5: UriMatch.NEVER,
}
FIELD_KINDS = {0: CustomFieldKind.TEXT, 1: CustomFieldKind.HIDDEN, 2: CustomFieldKind.BOOLEAN}
LINKED_FIELD = 3  # points at another field of the item: nothing of its own to keep
CARD_BRAND_ALIASES = {"amex": "American Express", "diners": "Diners Club"}
CARD_KEYS = {
    "cardholderName": "cardholder_name",
    "brand": "brand",
    "number": "number",
    "expMonth": "exp_month",
    "expYear": "exp_year",
    "code": "code",
}
IDENTITY_KEYS = {
    "title": "title",
    "firstName": "first_name",
    "middleName": "middle_name",
    "lastName": "last_name",
    "address1": "address1",
    "address2": "address2",
    "address3": "address3",
    "city": "city",
    "state": "state",
    "postalCode": "postal_code",
    "country": "country",
    "company": "company",
    "email": "email",
    "phone": "phone",
    "ssn": "ssn",
    "username": "username",
    "passportNumber": "passport_number",
    "licenseNumber": "license_number",
}
SSH_KEYS = {"privateKey": "private_key", "publicKey": "public_key"}

_SCALARS = ("null", "boolean", "integer", "double", "number", "string")
LABEL = "Bitwarden (.json)"


class WrongType(ValueError):
    """An item's value of the wrong JSON type; the message names the key, never the value."""


def detect(head: bytes) -> bool:
    text = "".join(head_text(head).split())  # without whitespace
    if not text.startswith("{"):
        return False
    if '"encrypted":true' in text or '"passwordProtected"' in text:
        return False  # the encrypted export: another format
    return '"items":' in text or '"encrypted":false' in text


def parse(stream: BinaryIO, limits: ImportLimits) -> Parsed:
    groupings: dict[str, str] = {}  # collection or folder id -> name
    if not (hasattr(stream, "seekable") and stream.seekable()):
        yield from _parse_events(stream, limits, groupings, stop_at_items=False)
        return
    # Two passes. The first, event by event, checks the top level and reads the collections
    # or folders (Bitwarden writes them before the items); it stops where the items begin.
    # The second builds each item in ijson's C backend: ten times faster than events.
    yield from _parse_events(stream, limits, groupings, stop_at_items=True)
    stream.seek(0)
    yield from _items(stream, limits, groupings)


def _items(stream: BinaryIO, limits: ImportLimits, groupings: dict[str, str]) -> Parsed:
    number = 0
    try:
        for item in ijson.items(stream, "items.item", use_float=True):
            number += 1
            _check_nesting(item, limits)
            yield parsed_item(item, groupings, where=f"item {number}")
    except ijson.JSONError as exc:  # IncompleteJSONError is one too
        raise ImportRejected(_broken_json(exc)) from exc
    except UnicodeDecodeError as exc:
        raise ImportRejected("The file is not UTF-8 text. " + _export_again()) from exc


def _check_nesting(item: Any, limits: ImportLimits) -> None:
    """The limits the event pass checks, on an item built whole (the item is at depth 3)."""
    longest = limits.max_field_chars
    stack = [(item, 3)] if isinstance(item, dict | list) else []
    if isinstance(item, str):
        _check_length(item, limits)
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_depth:
            raise ImportRejected(_too_deep(limits))
        for child in node.values() if type(node) is dict else node:
            kind = type(child)
            if kind is str:
                if len(child) > longest:
                    raise ImportRejected(_too_long(limits))
            elif kind is dict or kind is list:
                stack.append((child, depth + 1))


def _check_length(value: str, limits: ImportLimits) -> None:
    if len(value) > limits.max_field_chars:
        raise ImportRejected(_too_long(limits))


def _too_deep(limits: ImportLimits) -> str:
    return (
        f"The file is nested more than {limits.max_depth} levels deep; {LABEL} exports are "
        f"not. {_export_again()}"
    )


def _too_long(limits: ImportLimits) -> str:
    return (
        f"A value in the file is longer than {limits.max_field_chars:,} characters, the most "
        "one field may hold. Nothing was imported."
    )


def _parse_events(
    stream: BinaryIO, limits: ImportLimits, groupings: dict[str, str], *, stop_at_items: bool
) -> Parsed:
    builder: ijson.ObjectBuilder | None = None
    builder_prefix = ""
    item_number = 0
    for prefix, event, value in _checked_events(stream, limits):
        if stop_at_items and prefix == "items" and event == "start_array":
            return
        if builder is not None:
            builder.event(event, value)
            if prefix == builder_prefix and event in ("end_map", "end_array"):
                done, builder = builder.value, None
                if builder_prefix == "items.item":
                    item_number += 1
                    yield parsed_item(done, groupings, where=f"item {item_number}")
                else:
                    _add_grouping(groupings, done)
            continue
        if prefix == "" and event not in ("start_map", "map_key", "end_map"):
            raise ImportRejected(_not_bitwarden())
        if prefix == "encrypted" and value is True:
            raise ImportRejected(
                "This is an encrypted Bitwarden export. Choose 'Bitwarden (encrypted .json)' "
                "as the format, or export again unencrypted."
            )
        if prefix in ("items", "collections", "folders") and event in _SCALARS + ("start_map",):
            raise ImportRejected(f"The file's '{prefix}' should be a list. {_export_again()}")
        if prefix in ("items.item", "collections.item", "folders.item"):
            if event in ("start_map", "start_array"):
                builder, builder_prefix = ijson.ObjectBuilder(), prefix
                builder.event(event, value)
            elif prefix == "items.item":
                item_number += 1
                yield RowError(f"item {item_number}", "The item is not a JSON object; skipped.")


def _checked_events(stream: BinaryIO, limits: ImportLimits):
    """ijson's events, refusing a file nested too deep, a value too long, or broken JSON."""
    depth = 0
    saw_items = False
    try:
        for prefix, event, value in ijson.parse(stream, use_float=True):
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > limits.max_depth:
                    raise ImportRejected(_too_deep(limits))
            elif event in ("end_map", "end_array"):
                depth -= 1
            elif event == "string":
                _check_length(value, limits)
            if prefix == "items" and event == "start_array":
                saw_items = True
            yield prefix, event, value
    except ijson.JSONError as exc:  # IncompleteJSONError is one too
        raise ImportRejected(_broken_json(exc)) from exc
    except UnicodeDecodeError as exc:
        raise ImportRejected("The file is not UTF-8 text. " + _export_again()) from exc
    if not saw_items:  # an empty list is fine; no list at all is not Bitwarden's file
        raise ImportRejected(_not_bitwarden())


def _broken_json(exc: Exception) -> str:
    if "incomplete" in str(exc).lower() or "premature" in str(exc).lower():
        return "The file ends too early: it was cut short. " + _export_again()
    return "The file is not valid JSON (or not UTF-8 text). " + _export_again()


def _not_bitwarden() -> str:
    return f"This is not a {LABEL} export: it has no list of 'items'. " + _export_again()


def _export_again() -> str:
    return "Export the vault again and upload the new file; nothing was imported."


def _add_grouping(groupings: dict[str, str], grouping: Any) -> None:
    if not isinstance(grouping, dict):
        return
    grouping_id, name = grouping.get("id"), grouping.get("name")
    if isinstance(grouping_id, str) and isinstance(name, str) and name.strip():
        groupings[grouping_id] = name.strip()


# --------------------------------------------------------------------------
# One item: also used by the encrypted export once it has decrypted an item
# --------------------------------------------------------------------------


def parsed_item(item: Any, groupings: dict[str, str], *, where: str) -> ParsedItem | RowError:
    """A Bitwarden item (JSON object) as a ParsedItem, or a RowError saying what is wrong."""
    if not isinstance(item, dict):
        return RowError(where, "The item is not a JSON object; skipped.")
    try:
        item_type = ITEM_TYPES.get(_int(item, "type"))
        if item_type is None:
            return RowError(where, "The item's type is not one we import (1 to 5); skipped.")
        content = _content(item, item_type)
        collections = _collections(item, groupings)
    except WrongType as exc:
        return RowError(where, f"{exc}; skipped.")
    return ParsedItem(
        content=content,
        collections=collections,
        favorite=item.get("favorite") is True,
        reprompt=item.get("reprompt") == 1,
        where=where,
    )


def _content(item: dict, item_type: str) -> ItemContent:
    fields: dict[str, str] = {}
    uris: tuple[LoginUri, ...] = ()
    if item_type == ItemType.LOGIN:
        login = _object(item, "login")
        fields = _mapped(login, {"username": "username", "password": "password", "totp": "totp"})
        uris = tuple(uri for uri in map(_uri, _list(login, "uris")) if uri.uri)
    elif item_type == ItemType.CARD:
        fields = _card_fields(_mapped(_object(item, "card"), CARD_KEYS))
    elif item_type == ItemType.IDENTITY:
        fields = _mapped(_object(item, "identity"), IDENTITY_KEYS)
    elif item_type == ItemType.SSH_KEY:
        fields = _mapped(_object(item, "sshKey"), SSH_KEYS)
    return ItemContent(
        type=item_type,
        name=name_or_default(_str(item, "name")),
        fields=fields,
        uris=uris,
        notes=_str(item, "notes"),
        custom_fields=tuple(
            field for field in (_custom_field(f) for f in _list(item, "fields")) if field
        ),
        password_history=_password_history(item),
    )


def _collections(item: dict, groupings: dict[str, str]) -> tuple[str, ...]:
    ids = [_as_str(value, "collectionIds") for value in _list(item, "collectionIds")]
    folder_id = _str(item, "folderId")
    if folder_id:
        ids.append(folder_id)
    names = [groupings[grouping_id] for grouping_id in ids if grouping_id in groupings]
    return tuple(dict.fromkeys(names))


def _card_fields(fields: dict[str, str]) -> dict[str, str]:
    brand = fields.get("brand", "")
    if brand:
        known = {b.lower(): b for b in CARD_BRANDS}
        lowered = brand.strip().lower()
        fields["brand"] = known.get(lowered) or CARD_BRAND_ALIASES.get(lowered) or "Other"
    month = fields.get("exp_month", "")
    if month.isdigit() and 1 <= int(month) <= 12:
        fields["exp_month"] = f"{int(month):02d}"
    return fields


def _uri(uri: Any) -> LoginUri:
    if not isinstance(uri, dict):
        raise WrongType("A login URI is not a JSON object")
    match = uri.get("match")
    if match not in URI_MATCHES:
        match = None  # an unknown rule: the default, as Bitwarden does
    return LoginUri(uri=_str(uri, "uri").strip(), match=URI_MATCHES[match])


def _custom_field(field: Any) -> CustomField | None:
    if not isinstance(field, dict):
        raise WrongType("A custom field is not a JSON object")
    kind_number = _int(field, "type", default=0)
    if kind_number == LINKED_FIELD:
        return None
    kind = FIELD_KINDS.get(kind_number, CustomFieldKind.TEXT)
    value = _str(field, "value")
    if kind == CustomFieldKind.BOOLEAN:
        value = "true" if value.strip().lower() == "true" else "false"
    return CustomField(id=CustomField.new_id(), name=_str(field, "name"), kind=kind, value=value)


def _password_history(item: dict) -> tuple[PasswordChange, ...]:
    changes = []
    for change in _list(item, "passwordHistory")[:PASSWORD_HISTORY_MAX]:
        if not isinstance(change, dict):
            raise WrongType("A password history entry is not a JSON object")
        password = _str(change, "password")
        if password:
            changes.append(
                PasswordChange(password=password, changed_at=_str(change, "lastUsedDate"))
            )
    return tuple(changes)


def _mapped(source: dict, keys: dict[str, str]) -> dict[str, str]:
    fields = {ours: _str(source, theirs) for theirs, ours in keys.items()}
    return {key: value for key, value in fields.items() if value}


def _object(source: dict, key: str) -> dict:
    value = source.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WrongType(f"'{key}' should be a JSON object")
    return value


def _list(source: dict, key: str) -> list:
    value = source.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise WrongType(f"'{key}' should be a list")
    return value


def _str(source: dict, key: str) -> str:
    return _as_str(source.get(key), key)


def _as_str(value: Any, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    raise WrongType(f"'{key}' should be text")


def _int(source: dict, key: str, default: int | None = None) -> int | None:
    value = source.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WrongType(f"'{key}' should be a number")
    return int(value) if float(value).is_integer() else -1


FORMAT = register(Format(key="bitwarden_json", label=LABEL, parse=parse, detect=detect))
