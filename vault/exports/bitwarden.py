"""Our items in Bitwarden's export shapes: the organization JSON and the organization CSV.

Pure functions over decrypted `ItemContent`; nothing here touches keys or the database.
Field names, type numbers and match numbers are Bitwarden's, so that Bitwarden (and our
own Bitwarden importer) reads the file back field by field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from vault.content import CustomFieldKind, ItemContent, ItemType, UriMatch

# Bitwarden's CipherType numbers.
CIPHER_TYPES = {
    ItemType.LOGIN: 1,
    ItemType.SECURE_NOTE: 2,
    ItemType.CARD: 3,
    ItemType.IDENTITY: 4,
    ItemType.SSH_KEY: 5,
}
# Bitwarden's UriMatchStrategy numbers; "default" is null (the account's default).
URI_MATCHES = {
    UriMatch.DEFAULT: None,
    UriMatch.BASE_DOMAIN: 0,
    UriMatch.HOST: 1,
    UriMatch.STARTS_WITH: 2,
    UriMatch.EXACT: 3,
    UriMatch.REGEX: 4,
    UriMatch.NEVER: 5,
}
# Bitwarden's FieldType numbers.
FIELD_TYPES = {CustomFieldKind.TEXT: 0, CustomFieldKind.HIDDEN: 1, CustomFieldKind.BOOLEAN: 2}

CARD_FIELDS = {
    "cardholder_name": "cardholderName",
    "brand": "brand",
    "number": "number",
    "exp_month": "expMonth",
    "exp_year": "expYear",
    "code": "code",
}
IDENTITY_FIELDS = {
    "title": "title",
    "first_name": "firstName",
    "middle_name": "middleName",
    "last_name": "lastName",
    "address1": "address1",
    "address2": "address2",
    "address3": "address3",
    "city": "city",
    "state": "state",
    "postal_code": "postalCode",
    "country": "country",
    "company": "company",
    "email": "email",
    "phone": "phone",
    "ssn": "ssn",
    "username": "username",
    "passport_number": "passportNumber",
    "license_number": "licenseNumber",
}
SSH_KEY_FIELDS = {
    "private_key": "privateKey",
    "public_key": "publicKey",
    "fingerprint": "keyFingerprint",
}

CSV_HEADER = (
    "collections",
    "type",
    "name",
    "notes",
    "fields",
    "reprompt",
    "login_uri",
    "login_username",
    "login_password",
    "login_totp",
)
# Bitwarden's CSV carries logins and secure notes only; other types are left out.
CSV_TYPES = {ItemType.LOGIN: "login", ItemType.SECURE_NOTE: "note"}


def bitwarden_date(value: datetime | str | None) -> str | None:
    """Bitwarden's form of a date: UTC, milliseconds, "Z"."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _or_null(value: str | None) -> str | None:
    return value if value else None


def collection_json(*, collection_id: UUID, org_id: UUID, name: str) -> dict[str, Any]:
    return {
        "id": str(collection_id),
        "organizationId": str(org_id),
        "name": name,
        "externalId": None,
    }


def item_json(
    content: ItemContent,
    *,
    item_id: UUID,
    org_id: UUID,
    collection_ids: list[UUID],
    reprompt: bool,
    favorite: bool,
    created_at: datetime,
    updated_at: datetime,
) -> dict[str, Any]:
    """One item of Bitwarden's organization export ("items"), in its member order."""
    item: dict[str, Any] = {
        "passwordHistory": [
            {"lastUsedDate": bitwarden_date(change.changed_at), "password": change.password}
            for change in content.password_history
        ]
        or None,
        "revisionDate": bitwarden_date(updated_at),
        "creationDate": bitwarden_date(created_at),
        "deletedDate": None,
        "id": str(item_id),
        "organizationId": str(org_id),
        "folderId": None,
        "type": CIPHER_TYPES[content.type],
        "reprompt": 1 if reprompt else 0,
        "name": content.name,
        "notes": _or_null(content.notes),
        "favorite": favorite,
    }
    if content.custom_fields:
        item["fields"] = [
            {
                "name": custom.name,
                "value": custom.value,
                "type": FIELD_TYPES[custom.kind],
                "linkedId": None,
            }
            for custom in content.custom_fields
        ]
    item.update(_type_part(content))
    item["collectionIds"] = [str(pk) for pk in collection_ids]
    return item


def _type_part(content: ItemContent) -> dict[str, Any]:
    if content.type == ItemType.LOGIN:
        return {
            "login": {
                "fido2Credentials": [],
                "uris": [{"match": URI_MATCHES[u.match], "uri": u.uri} for u in content.uris],
                "username": _or_null(content.get("username")),
                "password": _or_null(content.get("password")),
                "totp": _or_null(content.get("totp")),
                "passwordRevisionDate": None,
            }
        }
    if content.type == ItemType.SECURE_NOTE:
        return {"secureNote": {"type": 0}}
    if content.type == ItemType.CARD:
        card = _mapped(content, CARD_FIELDS)
        if card["expMonth"]:
            card["expMonth"] = str(int(card["expMonth"]))  # Bitwarden writes "3", not "03"
        return {"card": card}
    if content.type == ItemType.IDENTITY:
        return {"identity": _mapped(content, IDENTITY_FIELDS)}
    return {"sshKey": _mapped(content, SSH_KEY_FIELDS)}


def _mapped(content: ItemContent, names: dict[str, str]) -> dict[str, str | None]:
    return {theirs: _or_null(content.get(ours)) for ours, theirs in names.items()}


def csv_row(
    content: ItemContent, *, collection_names: list[str], reprompt: bool
) -> list[str] | None:
    """One row under `CSV_HEADER`, or None for a type Bitwarden's CSV cannot carry."""
    kind = CSV_TYPES.get(content.type)
    if kind is None:
        return None
    fields = "\n".join(f"{custom.name}: {custom.value or ''}" for custom in content.custom_fields)
    is_login = content.type == ItemType.LOGIN
    return [
        ",".join(collection_names),
        kind,
        content.name,
        content.notes,
        fields,
        "1" if reprompt else "0",
        ",".join(u.uri for u in content.uris) if is_login else "",
        content.get("username") if is_login else "",
        content.get("password") if is_login else "",
        content.get("totp") if is_login else "",
    ]
