"""An org with one item of every type and every field, for exports and their round trips."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vault.content import (
    CustomField,
    ItemContent,
    ItemType,
    LoginUri,
    PasswordChange,
    ssh_public_key_from_private,
)

from ..conftest import give_keys, make_item

SSH_PRIVATE_KEY = (
    Ed25519PrivateKey.generate()
    .private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    .decode()
)

FORMULA_NAME = '=HYPERLINK("http://evil.example")'


def every_type() -> list[ItemContent]:
    login = ItemContent(
        type=ItemType.LOGIN,
        name="Bank login",
        fields={"username": "alice", "password": "s3cret-Pa55", "totp": "JBSWY3DPEHPK3PXP"},
        uris=(
            LoginUri("https://bank.example/login"),
            LoginUri("https://bank.example", "host"),
            LoginUri("^https://.*$", "regex"),
        ),
        notes="line one\nline two",
        custom_fields=(
            CustomField(id="c1", name="PIN", kind="hidden", value="pin-4q21"),
            CustomField(id="c2", name="Branch", kind="text", value="Main street"),
            CustomField(id="c3", name="Active", kind="boolean", value="true"),
        ),
        password_history=(
            PasswordChange(password="old-pass-2", changed_at="2026-02-01T10:00:00+00:00"),
            PasswordChange(password="old-pass-1", changed_at="2026-01-01T09:30:00+00:00"),
        ),
    )
    note = ItemContent(type=ItemType.SECURE_NOTE, name="Alarm code", notes="4711 then #")
    card = ItemContent(
        type=ItemType.CARD,
        name="Company card",
        fields={
            "cardholder_name": "Alice Example",
            "brand": "Visa",
            "number": "4111111111111111",
            "exp_month": "03",
            "exp_year": "2030",
            "code": "123",
        },
    )
    identity = ItemContent(
        type=ItemType.IDENTITY,
        name="Alice ID",
        fields={
            "title": "Dr",
            "first_name": "Alice",
            "middle_name": "B",
            "last_name": "Example",
            "address1": "1 Main St",
            "address2": "Floor 2",
            "address3": "Suite 3",
            "city": "Springfield",
            "state": "ST",
            "postal_code": "12345",
            "country": "US",
            "company": "Alice Co",
            "email": "alice@example.test",
            "phone": "+1 555 0100",
            "ssn": "123-45-6789",
            "username": "alice",
            "passport_number": "P123",
            "license_number": "L456",
        },
    )
    ssh = ItemContent(
        type=ItemType.SSH_KEY,
        name="Deploy key",
        fields={
            "private_key": SSH_PRIVATE_KEY,
            "public_key": ssh_public_key_from_private(SSH_PRIVATE_KEY) or "",
        },
    )
    formula = ItemContent(
        type=ItemType.LOGIN,
        name=FORMULA_NAME,
        fields={"username": "@SUM(1+1)", "password": "-2+3"},
        notes="a;=cmd|' /C calc'!A0",
    )
    return [login, note, card, identity, ssh, formula]


@pytest.fixture
def export_world(world):
    """`world` with keys and one item of each type in the shared collection (bob: can view)."""
    give_keys(world.org, world.other_org)
    world.items = [
        make_item(world.alice, world.org, [world.collection], content, reprompt=(i == 0))
        for i, content in enumerate(every_type())
    ]
    world.other_item = make_item(world.charlie, world.other_org, [world.other_collection])
    return world
