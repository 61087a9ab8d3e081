"""Import fixtures: hand-built sample files and a helper that runs the whole pipeline."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from portal.access import resolve
from tests.vault.conftest import give_keys
from vault.imports.services import import_job_create
from vault.models import ImportJob


@pytest.fixture
def keyed_world(world):
    give_keys(world.org, world.other_org)
    return world


def upload(data: bytes | str, name: str = "export.json") -> SimpleUploadedFile:
    if isinstance(data, str):
        data = data.encode()
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def run_import(user, org, data, *, format_key: str = "", collection=None) -> ImportJob:
    """The whole pipeline as the web runs it (tests run Celery eagerly, on commit)."""
    actor = resolve(user, org)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = import_job_create(
            actor=actor, org=org, upload=upload(data), format_key=format_key, collection=collection
        )
    job.refresh_from_db()
    return job


# A Bitwarden organization export, laid out as Bitwarden writes it ("encrypted": false,
# "collections" before "items", every item type, field types 0-3, password history).
BITWARDEN_ORG_EXPORT = {
    "encrypted": False,
    "collections": [
        {
            "id": "c1000000-0000-0000-0000-000000000001",
            "organizationId": "0a000000-0000-0000-0000-000000000001",
            "name": "Finance",
            "externalId": None,
        },
        {
            "id": "c1000000-0000-0000-0000-000000000002",
            "organizationId": "0a000000-0000-0000-0000-000000000001",
            "name": "Finance/Banking",
            "externalId": None,
        },
    ],
    "items": [
        {
            "passwordHistory": [
                {"lastUsedDate": "2024-01-02T03:04:05.000Z", "password": "old-Pa55-1"}
            ],
            "revisionDate": "2024-02-01T00:00:00.000Z",
            "creationDate": "2023-01-01T00:00:00.000Z",
            "deletedDate": None,
            "id": "a1000000-0000-0000-0000-000000000001",
            "organizationId": "0a000000-0000-0000-0000-000000000001",
            "folderId": None,
            "type": 1,
            "reprompt": 1,
            "name": "Bank login",
            "notes": "login notes",
            "favorite": True,
            "fields": [
                {"name": "Branch", "value": "Main street", "type": 0, "linkedId": None},
                {"name": "PIN", "value": "pin-4q21-zx", "type": 1, "linkedId": None},
                {"name": "Business", "value": "true", "type": 2, "linkedId": None},
                {"name": "Linked", "value": None, "type": 3, "linkedId": 100},
            ],
            "login": {
                "fido2Credentials": [],
                "uris": [
                    {"match": None, "uri": "https://bank.example/login"},
                    {"match": 1, "uri": "https://bank.example"},
                ],
                "username": "alice",
                "password": "s3cret-Pa55",
                "totp": "JBSWY3DPEHPK3PXP",
            },
            "collectionIds": ["c1000000-0000-0000-0000-000000000002"],
        },
        {
            "id": "a1000000-0000-0000-0000-000000000002",
            "organizationId": "0a000000-0000-0000-0000-000000000001",
            "folderId": None,
            "type": 2,
            "reprompt": 0,
            "name": "Alarm code",
            "notes": "1234 then #",
            "favorite": False,
            "secureNote": {"type": 0},
            "collectionIds": ["c1000000-0000-0000-0000-000000000001"],
        },
        {
            "id": "a1000000-0000-0000-0000-000000000003",
            "organizationId": "0a000000-0000-0000-0000-000000000001",
            "folderId": None,
            "type": 3,
            "reprompt": 0,
            "name": "Company card",
            "notes": None,
            "favorite": False,
            "card": {
                "cardholderName": "Alice Example",
                "brand": "Visa",
                "number": "4111111111111111",
                "expMonth": "7",
                "expYear": "2031",
                "code": "123",
            },
            "collectionIds": ["c1000000-0000-0000-0000-000000000001"],
        },
        {
            "id": "a1000000-0000-0000-0000-000000000004",
            "organizationId": "0a000000-0000-0000-0000-000000000001",
            "folderId": None,
            "type": 4,
            "reprompt": 0,
            "name": "Alice identity",
            "notes": "",
            "favorite": False,
            "identity": {
                "title": "Dr",
                "firstName": "Alice",
                "middleName": "B",
                "lastName": "Example",
                "address1": "1 Main street",
                "address2": None,
                "address3": None,
                "city": "Springfield",
                "state": "IL",
                "postalCode": "62701",
                "country": "US",
                "company": "Alice Co",
                "email": "alice@example.test",
                "phone": "555-0100",
                "ssn": "078-05-1120",
                "username": "alicee",
                "passportNumber": "X1234567",
                "licenseNumber": "D123",
            },
            "collectionIds": [],
        },
        {
            "id": "a1000000-0000-0000-0000-000000000005",
            "organizationId": "0a000000-0000-0000-0000-000000000001",
            "folderId": None,
            "type": 5,
            "reprompt": 0,
            "name": "Deploy key",
            "notes": None,
            "favorite": False,
            "sshKey": {
                "privateKey": "",
                "publicKey": "",
                "keyFingerprint": "",
            },
            "collectionIds": ["c1000000-0000-0000-0000-000000000001"],
        },
    ],
}


def ssh_key_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return private, public


def bitwarden_org_export() -> dict:
    export = json.loads(json.dumps(BITWARDEN_ORG_EXPORT))
    private, public = ssh_key_pair()
    export["items"][4]["sshKey"] = {
        "privateKey": private,
        "publicKey": public,
        "keyFingerprint": "SHA256:ignored-we-compute-it",
    }
    return export


def as_json(export: dict) -> bytes:
    return json.dumps(export, indent=2).encode()


def opened_items(org) -> dict[str, object]:
    """The org's items decrypted, by name (with the org's private key: the owner's view)."""
    from vault.crypto import KeyChain, decrypt_item_unchecked
    from vault.models import Item

    keychain = KeyChain(org.pk)
    items = Item.objects.filter(org=org).prefetch_related("collections")
    opened = {}
    for item in items:
        content = decrypt_item_unchecked(item, keychain)
        opened[content.name] = (content, item)
    return opened
