"""An import seals a data key while the operator rotates the org key: the data key must end
up sealed to the new key pair, not to the old one that the rotation deletes.

Needs real row locks, so Postgres; SQLite serialises whole-database writes and ignores
SELECT ... FOR UPDATE, which would make this test prove nothing.
"""

import threading
import time

import pytest
from django.db import connection, connections

from vault import key_management
from vault.key_management import data_key_create, org_key_rotate, vault_verify
from vault.models import DataKeyPurpose

from .conftest import give_keys

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres row locks (set DATABASE_URL=postgres://...)",
    ),
]


def test_a_data_key_sealed_during_an_org_key_rotation_follows_the_new_key(world, monkeypatch):
    give_keys(world.org)
    rotating = threading.Event()
    new_pair = key_management.generate_org_key_pair

    def slow_new_pair():
        # The rotation has locked the org key and read every data key by now.
        rotating.set()
        time.sleep(0.5)
        return new_pair()

    monkeypatch.setattr(key_management, "generate_org_key_pair", slow_new_pair)
    results: dict[str, object] = {}

    def rotate():
        try:
            results["rotation"] = org_key_rotate(org=world.org)
        finally:
            connections.close_all()

    def seal():
        try:
            assert rotating.wait(timeout=10)
            results["data_key"] = data_key_create(org=world.org, purpose=DataKeyPurpose.IMPORT)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rotate), threading.Thread(target=seal)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results["rotation"].new_version == 2
    assert results["data_key"].org_key_version == 2
    report = vault_verify(org=world.org)
    assert report.ok and report.data_keys == 2
