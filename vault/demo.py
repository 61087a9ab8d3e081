"""Demo items for `manage.py seed_demo`: one or more of every type in each demo client."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clients.models import Collection, MemberRole, MemberStatus, Organization
from portal.access import resolve, vault_access

from .content import CustomField, ItemContent, ItemType, LoginUri
from .models import Item
from .services import item_create

# Public test vector style key: these are demo credentials, not secrets.
DEMO_TOTP = "JBSWY3DPEHPK3PXP"


def seed_demo_items(*, org: Organization) -> int:
    """Create the demo items unless the org has items already (so a second run adds none)."""
    if Item.objects.filter(org=org).exists():
        return 0
    owner = org.memberships.filter(role=MemberRole.OWNER, status=MemberStatus.CONFIRMED).first()
    access = vault_access(resolve(owner.user, org))
    collections = {c.name: c for c in Collection.objects.filter(org=org)}
    default = next(c for c in collections.values() if c.is_default)
    placed = [
        (default, _login("Office Wi-Fi router", "admin", "https://192.168.1.1/")),
        (default, _identity()),
        (
            collections.get("Engineering/Servers", default),
            _login("Build server", "deploy", "https://ci.example.test/", totp=DEMO_TOTP),
        ),
        (collections.get("Engineering/Servers", default), _ssh_key()),
        (
            collections.get("Engineering/Servers", default),
            ItemContent(
                type=ItemType.SECURE_NOTE,
                name="Server room door code",
                notes="Door code changes monthly; ask facilities.",
                custom_fields=(CustomField("door", "Code", "hidden", "4711#"),),
            ),
        ),
        (
            collections.get("Finance/Banking", default),
            _login(
                "Business bank",
                "finance@example.test",
                "https://bank.example.test/",
                totp=DEMO_TOTP,
            ),
        ),
        (collections.get("Finance/Banking", default), _card()),
    ]
    for collection, content in placed:
        item_create(access=access, content=content, collection_ids=[collection.pk])
    return len(placed)


def _login(name: str, username: str, uri: str, *, totp: str = "") -> ItemContent:
    fields = {"username": username, "password": "Demo-password-" + name.split()[0]}
    if totp:
        fields["totp"] = totp
    return ItemContent(type=ItemType.LOGIN, name=name, fields=fields, uris=(LoginUri(uri),))


def _card() -> ItemContent:
    return ItemContent(
        type=ItemType.CARD,
        name="Company card",
        fields={
            "cardholder_name": "Demo Company",
            "brand": "Visa",
            "number": "4111 1111 1111 1111",
            "exp_month": "12",
            "exp_year": "2030",
            "code": "123",
        },
    )


def _identity() -> ItemContent:
    return ItemContent(
        type=ItemType.IDENTITY,
        name="Company registration contact",
        fields={
            "title": "Ms",
            "first_name": "Dana",
            "last_name": "Demo",
            "company": "Demo Company",
            "email": "dana@example.test",
            "phone": "+1 555 0100",
            "city": "Springfield",
            "country": "US",
        },
    )


def _ssh_key() -> ItemContent:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    return ItemContent(type=ItemType.SSH_KEY, name="Deploy key", fields={"private_key": private})
