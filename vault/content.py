"""What an item holds once decrypted: the five types, their fields and limits.

An item is stored as two ciphertexts (see `vault.crypto`): its name, and the
JSON of everything else built here. This module is pure Python: it validates,
serialises and redacts contents, and knows nothing of keys or the database.

"Password-class" secrets are the values that an "except passwords" access
level must never receive: a login's password and TOTP secret, a card's code,
an SSH private key, hidden custom fields and the password history.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from django.db import models

CONTENT_VERSION = 1


class ItemType(models.TextChoices):
    LOGIN = "login", "Login"
    SECURE_NOTE = "secure_note", "Secure note"
    CARD = "card", "Card"
    IDENTITY = "identity", "Identity"
    SSH_KEY = "ssh_key", "SSH key"


class UriMatch(models.TextChoices):
    """Bitwarden's URI match detection rules."""

    DEFAULT = "default", "Default"
    BASE_DOMAIN = "base_domain", "Base domain"
    HOST = "host", "Host"
    STARTS_WITH = "starts_with", "Starts with"
    EXACT = "exact", "Exact"
    REGEX = "regex", "Regular expression"
    NEVER = "never", "Never"


class CustomFieldKind(models.TextChoices):
    TEXT = "text", "Text"
    HIDDEN = "hidden", "Hidden"
    BOOLEAN = "boolean", "Yes / no"


CARD_BRANDS = (
    "Visa",
    "Mastercard",
    "American Express",
    "Discover",
    "Diners Club",
    "JCB",
    "Maestro",
    "UnionPay",
    "RuPay",
    "Other",
)
IDENTITY_TITLES = ("Mr", "Mrs", "Ms", "Mx", "Dr")

# Limits, in characters. Forms say them; `ItemContent.validate` enforces them again.
NAME_MAX = 200
NOTES_MAX = 10_000
SHORT_MAX = 200
USERNAME_MAX = 500
PASSWORD_MAX = 1_000
TOTP_MAX = 1_000
URI_MAX = 2_000
URIS_MAX = 20
CARD_NUMBER_MAX = 40
CARD_CODE_MAX = 10
SSH_PRIVATE_KEY_MAX = 10_000
SSH_PUBLIC_KEY_MAX = 5_000
CUSTOM_FIELDS_MAX = 20
CUSTOM_NAME_MAX = 200
CUSTOM_VALUE_MAX = 5_000
PASSWORD_HISTORY_MAX = 5


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    max_length: int
    secret: bool = False  # password-class: masked, and never sent to "except passwords"
    multiline: bool = False
    choices: tuple[str, ...] = ()
    computed: bool = False  # derived by the portal, never typed
    # Shown masked behind its own Reveal (audited), though not password-class: every level
    # that reaches the item may reveal it. The card number, as in Bitwarden.
    masked: bool = False


def _short(name: str, label: str, **options: Any) -> FieldSpec:
    return FieldSpec(name, label, SHORT_MAX, **options)


TYPE_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    ItemType.LOGIN: (
        FieldSpec("username", "Username", USERNAME_MAX),
        FieldSpec("password", "Password", PASSWORD_MAX, secret=True),
        FieldSpec("totp", "Authenticator key (TOTP)", TOTP_MAX, secret=True),
    ),
    ItemType.SECURE_NOTE: (),
    ItemType.CARD: (
        _short("cardholder_name", "Cardholder name"),
        _short("brand", "Brand", choices=CARD_BRANDS),
        FieldSpec("number", "Number", CARD_NUMBER_MAX, masked=True),
        FieldSpec("exp_month", "Expiry month", 2, choices=tuple(f"{m:02d}" for m in range(1, 13))),
        FieldSpec("exp_year", "Expiry year", 4),
        FieldSpec("code", "Security code", CARD_CODE_MAX, secret=True),
    ),
    ItemType.IDENTITY: (
        _short("title", "Title", choices=IDENTITY_TITLES),
        _short("first_name", "First name"),
        _short("middle_name", "Middle name"),
        _short("last_name", "Last name"),
        _short("address1", "Address line 1"),
        _short("address2", "Address line 2"),
        _short("address3", "Address line 3"),
        _short("city", "City / town"),
        _short("state", "State / province"),
        _short("postal_code", "Postal code"),
        _short("country", "Country"),
        _short("company", "Company"),
        _short("email", "Email"),
        _short("phone", "Phone"),
        _short("ssn", "Social security number"),
        _short("username", "Username"),
        _short("passport_number", "Passport number"),
        _short("license_number", "Licence number"),
    ),
    ItemType.SSH_KEY: (
        FieldSpec("private_key", "Private key", SSH_PRIVATE_KEY_MAX, secret=True, multiline=True),
        FieldSpec("public_key", "Public key", SSH_PUBLIC_KEY_MAX, multiline=True),
        FieldSpec("fingerprint", "Fingerprint", 100, computed=True),
    ),
}

ALL_TYPE_FIELD_NAMES = frozenset(spec.name for specs in TYPE_FIELDS.values() for spec in specs)


def field_specs(item_type: str) -> tuple[FieldSpec, ...]:
    return TYPE_FIELDS[ItemType(item_type)]


def masked_field_names(item_type: str) -> frozenset[str]:
    return frozenset(spec.name for spec in field_specs(item_type) if spec.masked)


def secret_field_names(item_type: str) -> frozenset[str]:
    return frozenset(spec.name for spec in field_specs(item_type) if spec.secret)


class ContentError(ValueError):
    """An item content that breaks a rule; the messages are safe to show the user."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


# The dataclasses below hold decrypted values. Their reprs name no value, so a log line,
# a traceback's locals or an error report that shows one cannot leak what the item holds.


@dataclass(frozen=True)
class LoginUri:
    uri: str
    match: str = UriMatch.DEFAULT

    def __repr__(self) -> str:
        return f"LoginUri(match={self.match!r})"

    @property
    def is_safe_link(self) -> bool:
        """Only web addresses become links; `javascript:` and the like stay text."""
        scheme = self.uri.strip().split(":", 1)[0].lower() if ":" in self.uri else ""
        return scheme in ("http", "https")


@dataclass(frozen=True)
class CustomField:
    id: str
    name: str
    kind: str
    value: str | None  # None once redacted

    def __repr__(self) -> str:
        return f"CustomField(id={self.id!r}, kind={self.kind!r})"

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(6)


@dataclass(frozen=True)
class PasswordChange:
    password: str | None  # None once redacted
    changed_at: str  # ISO 8601

    def __repr__(self) -> str:
        return f"PasswordChange(changed_at={self.changed_at!r})"


@dataclass(frozen=True)
class ItemContent:
    """The decrypted item: its name and the body that is encrypted apart from it."""

    type: str
    name: str
    fields: dict[str, str] = field(default_factory=dict)
    uris: tuple[LoginUri, ...] = ()
    notes: str = ""
    custom_fields: tuple[CustomField, ...] = ()
    password_history: tuple[PasswordChange, ...] = ()
    redacted: bool = False

    def __repr__(self) -> str:
        return f"ItemContent(type={str(self.type)!r}, redacted={self.redacted!r})"

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    # -- serialisation of the body (everything but the name) --

    def body_json(self) -> bytes:
        if self.redacted:
            raise ValueError("A redacted item cannot be stored.")
        body = {
            "v": CONTENT_VERSION,
            "fields": self.fields,
            "uris": [{"uri": u.uri, "match": u.match} for u in self.uris],
            "notes": self.notes,
            "custom_fields": [
                {"id": f.id, "name": f.name, "kind": f.kind, "value": f.value}
                for f in self.custom_fields
            ],
            "password_history": [
                {"password": p.password, "changed_at": p.changed_at} for p in self.password_history
            ],
        }
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_body_json(cls, *, item_type: str, name: str, body: bytes) -> ItemContent:
        data = json.loads(body)
        return cls(
            type=item_type,
            name=name,
            fields=dict(data.get("fields", {})),
            uris=tuple(LoginUri(u["uri"], u.get("match", UriMatch.DEFAULT)) for u in data["uris"]),
            notes=data.get("notes", ""),
            custom_fields=tuple(CustomField(**f) for f in data.get("custom_fields", [])),
            password_history=tuple(PasswordChange(**p) for p in data.get("password_history", [])),
        )

    # -- redaction for "except passwords" levels --

    def without_secrets(self) -> ItemContent:
        """A copy with every password-class value removed, for "except passwords" levels."""
        secret_names = secret_field_names(self.type)
        return replace(
            self,
            fields={k: v for k, v in self.fields.items() if k not in secret_names},
            custom_fields=tuple(
                replace(f, value=None) if f.kind == CustomFieldKind.HIDDEN else f
                for f in self.custom_fields
            ),
            password_history=tuple(replace(p, password=None) for p in self.password_history),
            redacted=True,
        )

    # -- validation --

    def validate(self) -> None:
        """Raise ContentError listing every broken rule; nothing is saved on error."""
        errors = _name_errors(self.name) + _field_errors(self) + _list_errors(self)
        if errors:
            raise ContentError(errors)


def _name_errors(name: str) -> list[str]:
    if not name.strip():
        return ["Give the item a name."]
    if len(name) > NAME_MAX:
        return [f"The name is {len(name):,} characters long; the limit is {NAME_MAX:,}."]
    return []


def _field_errors(content: ItemContent) -> list[str]:
    specs = {spec.name: spec for spec in field_specs(content.type)}
    foreign = sorted(set(content.fields) - set(specs))
    errors = []
    if foreign:
        label = ItemType(content.type).label.lower()
        errors.append(f"These fields do not belong to a {label}: {', '.join(foreign)}.")
    for name, value in content.fields.items():
        spec = specs.get(name)
        if spec is None:
            continue
        if len(value) > spec.max_length:
            errors.append(
                f"{spec.label} is {len(value):,} characters; the limit is {spec.max_length:,}."
            )
        elif spec.choices and value and value not in spec.choices:
            errors.append(f"{spec.label}: choose one of the listed values.")
    if len(content.notes) > NOTES_MAX:
        errors.append(f"Notes are {len(content.notes):,} characters; the limit is {NOTES_MAX:,}.")
    return errors


# Django rebuilds `Choices.values` on every access; an import validates 100,000 items.
_URI_MATCHES = frozenset(UriMatch.values)
_CUSTOM_FIELD_KINDS = frozenset(CustomFieldKind.values)


def _list_errors(content: ItemContent) -> list[str]:
    errors = []
    if content.uris and content.type != ItemType.LOGIN:
        errors.append("Only logins have URIs.")
    if len(content.uris) > URIS_MAX:
        errors.append(f"A login has at most {URIS_MAX} URIs.")
    if any(len(u.uri) > URI_MAX for u in content.uris):
        errors.append(f"A URI is longer than {URI_MAX:,} characters.")
    if any(u.match not in _URI_MATCHES for u in content.uris):
        errors.append("Choose a listed match rule for each URI.")
    if len(content.custom_fields) > CUSTOM_FIELDS_MAX:
        errors.append(f"An item has at most {CUSTOM_FIELDS_MAX} custom fields.")
    for custom in content.custom_fields:
        if custom.kind not in _CUSTOM_FIELD_KINDS:
            errors.append("Choose text, hidden or yes / no for each custom field.")
        if len(custom.name) > CUSTOM_NAME_MAX or len(custom.value or "") > CUSTOM_VALUE_MAX:
            errors.append(
                f"Custom field names are limited to {CUSTOM_NAME_MAX} characters and "
                f"values to {CUSTOM_VALUE_MAX:,}."
            )
    return errors


# --------------------------------------------------------------------------
# Derived values and helpers shared by forms and services
# --------------------------------------------------------------------------


def with_password_history(old: ItemContent, new: ItemContent, *, now: datetime) -> ItemContent:
    """Push the old password onto the history when a login's password changes (keep 5)."""
    old_password = old.get("password")
    if new.type != ItemType.LOGIN or not old_password or old_password == new.get("password"):
        return replace(new, password_history=old.password_history)
    change = PasswordChange(password=old_password, changed_at=now.isoformat())
    history = (change, *old.password_history)[:PASSWORD_HISTORY_MAX]
    return replace(new, password_history=history)


class InvalidSshKey(ValueError):
    pass


def ssh_public_key_fingerprint(public_key: str) -> str:
    """OpenSSH's SHA256 fingerprint of a public key line ("ssh-ed25519 AAAA... comment")."""
    parts = public_key.split()
    if len(parts) < 2:
        raise InvalidSshKey("The public key should look like 'ssh-ed25519 AAAA... comment'.")
    try:
        serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
        blob = base64.b64decode(parts[1], validate=True)
    except UnsupportedAlgorithm as exc:
        raise InvalidSshKey(
            "This type of public key is not supported; use Ed25519, ECDSA or RSA."
        ) from exc
    except (ValueError, binascii.Error, TypeError) as exc:
        raise InvalidSshKey("The public key is not a valid OpenSSH public key.") from exc
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def ssh_public_key_from_private(private_key: str) -> str | None:
    """The public key of an unencrypted OpenSSH/PEM private key, or None if it cannot be read."""
    try:
        key = serialization.load_ssh_private_key(private_key.strip().encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        try:
            key = serialization.load_pem_private_key(private_key.strip().encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            return None
    try:
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
    except ValueError:
        return None
    return public.decode()


def with_ssh_fingerprint(content: ItemContent) -> ItemContent:
    """Fill a blank public key from the private key, and compute the fingerprint."""
    if content.type != ItemType.SSH_KEY:
        return content
    fields = dict(content.fields)
    if not fields.get("public_key", "").strip() and fields.get("private_key", "").strip():
        derived = ssh_public_key_from_private(fields["private_key"])
        if derived:
            fields["public_key"] = derived
    public_key = fields.get("public_key", "").strip()
    try:
        fields["fingerprint"] = ssh_public_key_fingerprint(public_key) if public_key else ""
    except InvalidSshKey as exc:
        raise ContentError([str(exc)]) from exc
    return replace(content, fields=fields)


PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#$%^&*-_=+"


def generate_password(length: int = 20) -> str:
    """A random password from an alphabet without look-alike characters."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
