"""The Django glue of the key hierarchy: key ring from settings, org keys, grants, tamper."""

from __future__ import annotations

import base64
import logging
import os
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from portal.access import ItemGrant, VaultAccess
from portal.models import Event, EventType
from vault.crypto import ItemUnreadable, KeyChain, open_item, open_names, seal_item
from vault.key_management import data_key_create, org_key_rotate, org_keys_create
from vault.keyring import configured_keyring, forget_cached_keyring
from vault.keys import InvalidKeyConfiguration
from vault.models import DataKey, DataKeyPurpose, Item, OrgKey

from .conftest import access_for, login_content, make_item

pytestmark = pytest.mark.django_db


def kek(kek_id: str) -> str:
    return f"{kek_id}:{base64.b64encode(os.urandom(32)).decode()}"


def test_keyring_comes_from_settings_and_follows_overrides():
    assert configured_keyring().active_id == "test1"
    with override_settings(VAULT_KEKS=f"{kek('k2')},{kek('k1')}"):
        assert configured_keyring().ids == ("k2", "k1")


def test_keyring_from_a_file(tmp_path):
    key_file = tmp_path / "keks.txt"
    key_file.write_text(kek("filekey") + "\n")
    with override_settings(VAULT_KEKS="", VAULT_KEKS_FILE=str(key_file)):
        forget_cached_keyring()
        assert configured_keyring().active_id == "filekey"


def test_missing_keyring_raises():
    with override_settings(VAULT_KEKS="", VAULT_KEKS_FILE=""):
        with pytest.raises(InvalidKeyConfiguration):
            configured_keyring()


def test_org_create_gives_the_org_its_keys(world):
    from clients.services import org_create

    org = org_create(user=world.alice, name="Fresh Co")
    org_key = OrgKey.objects.get(org=org)
    assert (org_key.version, org_key.active, org_key.kek_id) == (1, True, "test1")
    assert len(bytes(org_key.public_key)) == 32
    assert bytes(org_key.wrapped_private_key) != b""
    assert DataKey.objects.filter(org=org, purpose=DataKeyPurpose.MEMBERS).count() == 1


def test_data_keys_need_only_the_public_key(world, monkeypatch):
    org_keys_create(org=world.org)

    def no_unwrapping(*args, **kwargs):
        raise AssertionError("creating a data key must not unwrap the org private key")

    monkeypatch.setattr("vault.crypto.unwrap_org_private_key", no_unwrapping)
    data_key = data_key_create(org=world.org, purpose=DataKeyPurpose.IMPORT)
    assert data_key.org_key_version == 1


def test_open_item_needs_a_grant_for_that_item(vault_world):
    w = vault_world
    access = access_for(w.alice, w.org)
    other = make_item(w.alice, w.org, [w.collection])
    grant = access.grant_item(org_id=w.org.pk, item_id=other.pk, collection_ids=[w.collection.pk])
    with pytest.raises(PermissionDenied):
        open_item(grant, w.item, KeyChain(w.org.pk))
    with pytest.raises(PermissionDenied):
        open_item(None, w.item, KeyChain(w.org.pk))


def test_grants_cannot_be_made_by_hand(vault_world):
    access = access_for(vault_world.alice, vault_world.org)
    with pytest.raises(TypeError, match="issued by"):
        ItemGrant(access=access, item_id=vault_world.item.pk, level="manage")
    with pytest.raises(TypeError, match="issued by"):
        VaultAccess(actor=access.actor, collection_levels={}, reaches_all_items=True)


def test_a_grant_of_one_org_opens_nothing_in_another(vault_world):
    w = vault_world
    access = access_for(w.alice, w.org)
    assert (
        access.grant_item(org_id=w.other_org.pk, item_id=w.other_item.pk, collection_ids=[]) is None
    )
    with pytest.raises(PermissionDenied):
        open_names(access, [], KeyChain(w.other_org.pk))


def _grant_for(user, item):
    collection_ids = list(item.collections.values_list("pk", flat=True))
    return access_for(user, item.org).grant_item(
        org_id=item.org_id, item_id=item.pk, collection_ids=collection_ids
    )


def test_ciphertext_copied_to_another_item_fails_to_open(vault_world, caplog):
    w = vault_world
    victim = make_item(w.alice, w.org, [w.collection])
    Item.objects.filter(pk=victim.pk).update(
        name_ciphertext=w.item.name_ciphertext, data_ciphertext=w.item.data_ciphertext
    )
    victim.refresh_from_db()
    with caplog.at_level(logging.WARNING), pytest.raises(ItemUnreadable) as failure:
        open_item(_grant_for(w.alice, victim), victim, KeyChain(w.org.pk))
    assert failure.value.item_id == victim.pk
    assert "bank" not in caplog.text.lower() and str(victim.pk) in caplog.text


def test_ciphertext_copied_to_another_org_fails_to_open(vault_world):
    w = vault_world
    theirs = w.other_item
    Item.objects.filter(pk=theirs.pk).update(
        name_ciphertext=w.item.name_ciphertext, data_ciphertext=w.item.data_ciphertext
    )
    theirs.refresh_from_db()
    with pytest.raises(ItemUnreadable):
        open_item(_grant_for(w.charlie, theirs), theirs, KeyChain(w.other_org.pk))


def test_data_key_of_another_org_fails_to_open(vault_world):
    w = vault_world
    ours = DataKey.objects.get(org=w.org, purpose=DataKeyPurpose.MEMBERS)
    DataKey.objects.filter(org=w.other_org).update(sealed_key=ours.sealed_key)
    with pytest.raises(ItemUnreadable) as failure:
        KeyChain(w.other_org.pk).members_data_key()
    assert failure.value.what == "data key"


def test_a_removed_kek_makes_org_keys_unreadable_not_plaintext(vault_world, caplog):
    # The data key's tag is checked first, and it needs the KEK that is gone: the operator
    # log names the missing KEK rather than calling the row forged.
    with override_settings(VAULT_KEKS=kek("other")), caplog.at_level(logging.ERROR):
        with pytest.raises(ItemUnreadable, match="data key"):
            KeyChain(vault_world.org.pk).members_data_key()
    assert "'test1', which is not configured" in caplog.text
    assert "integrity" not in caplog.text


def test_names_open_apart_from_bodies(vault_world):
    w = vault_world
    item = w.item
    sealed = seal_item(
        login_content("Renamed"),
        org_id=w.org.pk,
        item_id=item.pk,
        data_key=KeyChain(w.org.pk).data_key(item.data_key_id),
    )
    Item.objects.filter(pk=item.pk).update(name_ciphertext=sealed.name_ciphertext)
    names, failures = open_names(
        access_for(w.alice, w.org),
        [
            (item.pk, item.data_key_id, sealed.name_ciphertext),
            (uuid.uuid4(), item.data_key_id, sealed.name_ciphertext),
        ],
        KeyChain(w.org.pk),
    )
    assert names == {item.pk: "Renamed"}
    assert len(failures) == 1  # the same name under another item id does not open


def test_unreadable_failures_are_recorded_by_id(vault_world):
    from vault.services import item_unreadable_record

    failure = ItemUnreadable("item name", org_id=vault_world.org.pk, item_id=vault_world.item.pk)
    item_unreadable_record(failure=failure)
    event = Event.objects.get(type=EventType.ITEM_DECRYPTION_FAILED)
    assert event.object_id == str(vault_world.item.pk)
    assert event.org_id == vault_world.org.pk


def test_data_keys_made_after_an_org_key_rotation_are_sealed_to_the_new_key(vault_world):
    w = vault_world
    org_key_rotate(org=w.org)
    data_key = data_key_create(org=w.org, purpose=DataKeyPurpose.IMPORT)
    assert data_key.org_key_version == 2
    KeyChain(w.org.pk).data_key(data_key.pk)  # opens


def test_a_reader_racing_an_org_key_rotation_still_opens_the_item(vault_world, monkeypatch):
    """The rotation commits after the reader read the data key row, before the org key."""
    w = vault_world
    read_org_key = KeyChain.private_key
    rotations = []

    def rotation_in_between(keychain, version):
        if keychain.org_id == w.org.pk and not rotations:
            rotations.append("started")
            rotations.append(org_key_rotate(org=w.org))
        return read_org_key(keychain, version)

    monkeypatch.setattr(KeyChain, "private_key", rotation_in_between)
    content = open_item(_grant_for(w.alice, w.item), w.item, KeyChain(w.org.pk))
    assert content.name == "Bank login" and rotations[1].new_version == 2
    assert not OrgKey.objects.filter(org=w.org, version=1).exists()  # it did race
    assert not Event.objects.filter(type=EventType.ITEM_DECRYPTION_FAILED).exists()
