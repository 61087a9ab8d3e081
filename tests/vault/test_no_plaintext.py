"""Nothing secret in plain text at rest: items of every type are created and edited through the
pages with a marker in every free-text field, then every table's raw rows are read back and the
marker is in none of them (nor in the logs).

Fields that only take listed values (card brand, expiry month, identity title, URI match rule,
custom field type) or four digits (card expiry year) cannot hold the marker; their values are
inside the same encrypted body as the rest.
"""

from __future__ import annotations

import json
import logging

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection

from vault.content import TYPE_FIELDS, ItemType
from vault.models import Item, NameIndexSegment

from .helpers import form_post, vault_url

pytestmark = pytest.mark.django_db

MARKER = "QZXVMARKER"  # ten letters: fits the card code limit, and is valid base32 for TOTP


def _public_key() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{line.decode()} {MARKER}@host"


def marked_fields(item_type: str) -> dict[str, str]:
    special = {
        "totp": MARKER + "JBSWY3",
        "code": MARKER,
        "brand": "Visa",
        "exp_month": "03",
        "exp_year": "2031",
        "title": "Dr",
        "public_key": _public_key(),
    }
    fields = {
        spec.name: special.get(spec.name, f"{spec.label} {MARKER}")
        for spec in TYPE_FIELDS[item_type]
        if not spec.computed
    }
    return {"name": f"{MARKER} {item_type}", "notes": f"notes {MARKER}", **fields}


def marked_custom_fields() -> list[dict[str, str]]:
    return [
        {"name": f"text {MARKER}", "kind": "text", "value": f"value {MARKER}"},
        {"name": f"hidden {MARKER}", "kind": "hidden", "value": f"secret {MARKER}"},
        {"name": f"flag {MARKER}", "kind": "boolean", "value": "yes"},
    ]


def create_every_type(client, w) -> dict[str, Item]:
    items = {}
    for item_type in ItemType.values:
        data = form_post(
            item_type,
            collections=[w.collection],
            uris=[(f"https://{MARKER}.example/", "host"), (f"javascript:{MARKER}", "default")],
            custom=marked_custom_fields(),
            **marked_fields(item_type),
        )
        response = client.post(vault_url("item_new", w.org, item_type=item_type), data)
        assert response.status_code == 302, response.content.decode()[:3000]
        items[item_type] = Item.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[-1])
    return items


def use_the_items(client, w, items: dict[str, Item]) -> None:
    """Edit (password history), reveal, copy, search: everything that could leave a trace."""
    login_item = items[ItemType.LOGIN]
    edit = form_post(
        "login",
        revision=login_item.revision,
        uris=[(f"https://{MARKER}.example/", "host")],
        **{**marked_fields("login"), "password": f"new {MARKER}"},
    )
    assert client.post(vault_url("item_edit", w.org, login_item), edit).status_code == 302
    for field in ("password", "totp", "history:0"):
        response = client.post(vault_url("item_detail", w.org, login_item), {"field": field})
        assert MARKER.encode() in response.content  # it is there in the page, and only there
    client.post(vault_url("item_copy", w.org, login_item))
    client.post(vault_url("item_totp", w.org, login_item))
    assert MARKER.encode() in client.post(vault_url("item_list", w.org), {"q": MARKER}).content
    for item in items.values():
        assert client.get(vault_url("item_detail", w.org, item)).status_code == 200


def every_raw_value():
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    yield table, value


def cached_values() -> list[bytes]:
    """Every value in Django's cache, as stored; and the name index was written (its rows
    are among every table's raw rows)."""
    from django.core.cache import cache

    assert NameIndexSegment.objects.filter(entries__gt=0).exists(), "the name index was not used"
    stored = cache._cache  # the test settings' LocMemCache: key -> pickled value
    return [bytes(value) for value in stored.values()]


def as_text(value) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def test_no_secret_is_stored_in_plain_text(vault_world, login, caplog):
    w = vault_world
    client = login(w.alice)
    with caplog.at_level(logging.DEBUG):
        items = create_every_type(client, w)
        use_the_items(client, w, items)
    assert len(items) == 5
    found = [
        table for table, value in every_raw_value() if MARKER.lower() in as_text(value).lower()
    ]
    assert not found, f"plain text marker found in tables: {sorted(set(found))}"
    assert MARKER.lower() not in caplog.text.lower()
    assert not any(MARKER.encode() in value for value in cached_values())
    # The scan is not vacuous: the items' rows were read, as ciphertext.
    assert any(table == "vault_item" for table, _ in every_raw_value())
