"""A database writer without the vault key learns nothing and forges nothing.

Each attack writes rows straight into the database, as someone with write access but
no key-encryption key could, then uses the portal as normal. Every test here fails
if the row tags (vault.keys `tag_*` / `check_*`) are taken out of the path it covers.
"""

from __future__ import annotations

import importlib
import io
import logging
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from portal.models import Event, EventType
from vault.content import ItemContent, ItemType
from vault.crypto import ItemUnreadable, KeyChain, seal_item
from vault.key_management import data_key_create, keks_rotate, org_key_rotate, vault_verify
from vault.keyring import configured_keyring
from vault.keys import (
    RowTag,
    check_data_key,
    generate_data_key,
    generate_org_key_pair,
    parse_keyring,
    seal_data_key,
    tag_data_key,
)
from vault.models import DataKey, DataKeyPurpose, Item, OrgKey

from .conftest import access_for, make_item
from .helpers import form_post, vault_url
from .test_item_forms import content_of
from .test_operator_commands import TEST_KEK, new_kek

pytestmark = pytest.mark.django_db


def planted_members_key(org, *, tag: RowTag | None = None) -> tuple[DataKey, bytes]:
    """A data key the attacker knows, sealed to the org's real public key, dated ahead."""
    org_key = OrgKey.objects.get(org=org, active=True)
    known_key = generate_data_key()
    data_key_id = uuid.uuid4()
    row = DataKey.objects.create(
        id=data_key_id,
        org=org,
        sealed_key=seal_data_key(
            known_key,
            org_public_key=bytes(org_key.public_key),
            org_id=org.pk,
            data_key_id=data_key_id,
        ),
        org_key_version=org_key.version,
        purpose=DataKeyPurpose.MEMBERS,
        tag_kek_id=tag.kek_id if tag else "",
        tag=tag.tag if tag else b"",
        created_at=timezone.now() + timedelta(days=365),
    )
    return row, known_key


def decryption_events(org) -> list[Event]:
    return list(Event.objects.filter(org=org, type=EventType.ITEM_DECRYPTION_FAILED))


# --------------------------------------------------------------------------
# The planted data key
# --------------------------------------------------------------------------


def test_planted_members_key_is_never_chosen_for_members_writes(vault_world, login, caplog):
    w = vault_world
    genuine = DataKey.objects.get(org=w.org, purpose=DataKeyPurpose.MEMBERS)
    planted, _known = planted_members_key(w.org)
    client = login(w.alice)
    with caplog.at_level(logging.ERROR):
        response = client.post(
            vault_url("item_new", w.org, item_type="login"),
            form_post("login", collections=[w.collection], name="Payroll", password="hunter22"),
        )
    assert response.status_code == 302
    created = Item.objects.filter(org=w.org).exclude(pk=w.item.pk).get()
    assert created.data_key_id == genuine.pk  # not the attacker's key
    assert content_of(w.alice, created).get("password") == "hunter22"
    [event] = decryption_events(w.org)
    assert event.details["data_key"] == str(planted.pk)
    assert f"Data key {planted.pk} of org {w.org.pk} failed its integrity check" in caplog.text


def test_planted_members_key_is_passed_over_by_edits_too(vault_world):
    w = vault_world
    planted, _known = planted_members_key(w.org)
    from vault.services import ItemEdit, item_update

    item = item_update(
        access=access_for(w.alice, w.org),
        item_id=w.item.pk,
        revision=w.item.revision,
        edit=ItemEdit(content=content_of(w.alice, w.item)),
    )
    assert item.data_key_id != planted.pk


def test_items_written_under_a_planted_key_are_not_shown_as_genuine(vault_world, login):
    w = vault_world
    planted, known_key = planted_members_key(w.org)
    forged_id = uuid.uuid4()
    content = ItemContent(type=ItemType.LOGIN, name="Forged", fields={"password": "attacker"})
    sealed = seal_item(content, org_id=w.org.pk, item_id=forged_id, data_key=known_key)
    forged = Item.objects.create(
        id=forged_id,
        org=w.org,
        type=ItemType.LOGIN,
        data_key=planted,
        name_ciphertext=sealed.name_ciphertext,
        data_ciphertext=sealed.data_ciphertext,
    )
    forged.collections.add(w.collection)
    client = login(w.alice)
    response = client.get(vault_url("item_detail", w.org, forged))
    assert response.status_code == 409
    assert b"attacker" not in response.content and b"Forged" not in response.content
    listing = client.get(vault_url("item_list", w.org))
    assert b"Forged" not in listing.content
    assert any(e.details.get("data_key") == str(planted.pk) for e in decryption_events(w.org))


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda good, other: RowTag(good.kek_id, good.tag[:16]), id="short"),
        pytest.param(lambda good, other: RowTag(good.kek_id, good.tag + b"\0"), id="long"),
        pytest.param(lambda good, other: other, id="another-row"),
        pytest.param(lambda good, other: RowTag("gone", good.tag), id="unknown-kek"),
        pytest.param(lambda good, other: RowTag("", b""), id="none"),
    ],
)
def test_forged_tags_are_refused(vault_world, forge):
    w = vault_world
    row = DataKey.objects.get(org=w.org, purpose=DataKeyPurpose.MEMBERS)
    other = DataKey.objects.get(org=w.other_org, purpose=DataKeyPurpose.MEMBERS)
    good = RowTag(row.tag_kek_id, bytes(row.tag))
    bad = forge(good, RowTag(other.tag_kek_id, bytes(other.tag)))
    DataKey.objects.filter(pk=row.pk).update(tag_kek_id=bad.kek_id, tag=bad.tag)
    with pytest.raises(ItemUnreadable):
        KeyChain(w.org.pk).members_data_key()
    with pytest.raises(ItemUnreadable):
        content_of(w.alice, Item.objects.get(pk=w.item.pk))


@pytest.mark.parametrize(
    "change",
    [
        {"purpose": DataKeyPurpose.IMPORT},
        {"org_key_version": 2},
    ],
)
def test_a_tag_covers_purpose_and_version(vault_world, change):
    row = DataKey.objects.get(org=vault_world.org, purpose=DataKeyPurpose.MEMBERS)
    DataKey.objects.filter(pk=row.pk).update(**change)
    with pytest.raises(ItemUnreadable):
        KeyChain(vault_world.org.pk).data_key(row.pk)


def test_a_tag_is_bound_to_its_org(vault_world):
    """The same sealed bytes and id under another org fail: the org is in the message."""
    row = DataKey.objects.get(org=vault_world.org, purpose=DataKeyPurpose.MEMBERS)
    keyring = configured_keyring()
    tag = tag_data_key(
        bytes(row.sealed_key),
        org_id=row.org_id,
        data_key_id=row.pk,
        org_key_version=1,
        purpose="members",
        keyring=keyring,
    )
    from vault.keys import IntegrityCheckFailed

    with pytest.raises(IntegrityCheckFailed):
        check_data_key(
            tag,
            bytes(row.sealed_key),
            org_id=vault_world.other_org.pk,
            data_key_id=row.pk,
            org_key_version=1,
            purpose="members",
            keyring=keyring,
        )


def test_operator_log_tells_a_missing_kek_from_a_forged_row(vault_world, caplog):
    w = vault_world
    row = DataKey.objects.get(org=w.org, purpose=DataKeyPurpose.MEMBERS)
    DataKey.objects.filter(pk=row.pk).update(tag_kek_id="retired")
    with caplog.at_level(logging.ERROR), pytest.raises(ItemUnreadable):
        KeyChain(w.org.pk).data_key(row.pk)
    assert "needs key-encryption key 'retired', which is not configured" in caplog.text
    assert "integrity" not in caplog.text
    caplog.clear()
    DataKey.objects.filter(pk=row.pk).update(tag_kek_id=row.tag_kek_id, tag=b"\0" * 32)
    with caplog.at_level(logging.ERROR), pytest.raises(ItemUnreadable):
        KeyChain(w.org.pk).data_key(row.pk)
    assert "failed its integrity check" in caplog.text


def test_the_unreadable_page_stays_generic(vault_world, login):
    w = vault_world
    DataKey.objects.filter(org=w.org).update(tag=b"\0" * 32)
    response = login(w.alice).get(vault_url("item_detail", w.org, w.item))
    assert response.status_code == 409
    assert b"integrity" not in response.content and b"key-encryption" not in response.content


# --------------------------------------------------------------------------
# The swapped public key
# --------------------------------------------------------------------------


def swap_public_key(org) -> bytes:
    """The attacker's own key pair's public half in the org's row; returns their private key."""
    attacker_private, attacker_public = generate_org_key_pair()
    OrgKey.objects.filter(org=org, active=True).update(public_key=attacker_public)
    return attacker_private


def test_nothing_is_sealed_to_a_swapped_public_key(vault_world, caplog):
    w = vault_world
    swap_public_key(w.org)
    count_before = DataKey.objects.count()
    with caplog.at_level(logging.ERROR), pytest.raises(ItemUnreadable, match="org public key"):
        data_key_create(org=w.org, purpose=DataKeyPurpose.IMPORT)
    assert DataKey.objects.count() == count_before
    assert f"Public key v1 (row {OrgKey.objects.get(org=w.org).pk}) of org {w.org.pk}" in (
        caplog.text
    )


def test_a_public_key_copied_from_another_org_is_refused(vault_world):
    w = vault_world
    theirs = OrgKey.objects.get(org=w.other_org)
    OrgKey.objects.filter(org=w.org).update(
        public_key=theirs.public_key, public_key_tag=theirs.public_key_tag
    )
    with pytest.raises(ItemUnreadable):
        data_key_create(org=w.org, purpose=DataKeyPurpose.IMPORT)


def test_sealing_for_an_import_never_unwraps_the_private_key(vault_world, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the import path unwrapped an org private key")

    monkeypatch.setattr("vault.keys.unwrap_org_private_key", refuse)
    monkeypatch.setattr("vault.crypto.unwrap_org_private_key", refuse)
    row = data_key_create(org=vault_world.org, purpose=DataKeyPurpose.IMPORT)
    assert row.tag_kek_id == "test1" and len(bytes(row.tag)) == 32


# --------------------------------------------------------------------------
# Operator commands
# --------------------------------------------------------------------------


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue() + str(error)
    return out.getvalue(), err.getvalue()


def test_verify_vault_checks_every_tag(vault_world):
    w = vault_world
    assert vault_verify().ok
    planted, _ = planted_members_key(w.org)
    swap_public_key(w.other_org)
    report = vault_verify()
    assert not report.ok
    failed = {(f.what, f.org_id, f.data_key_id) for f in report.failures}
    assert ("data key", w.org.pk, planted.pk) in failed
    assert ("org public key", w.other_org.pk, None) in failed
    with pytest.raises(CommandError, match="failed to open"):
        call_command("verify_vault", stdout=io.StringIO(), stderr=io.StringIO())


def test_rotate_keks_retags_every_row_and_the_old_kek_can_go(vault_world):
    w = vault_world
    fresh = new_kek("k2")
    with override_settings(VAULT_KEKS=f"{fresh},{TEST_KEK}"):
        data_key_create(org=w.org, purpose=DataKeyPurpose.IMPORT)  # more than one row per org
        report = keks_rotate()
    assert report.rewrapped == 2 and not report.failed
    assert set(DataKey.objects.values_list("tag_kek_id", flat=True)) == {"k2"}
    assert set(OrgKey.objects.values_list("kek_id", flat=True)) == {"k2"}
    with override_settings(VAULT_KEKS=fresh):
        assert vault_verify().ok
        assert content_of(w.alice, Item.objects.get(pk=w.item.pk)).name == "Bank login"


def test_rotate_keks_never_retags_a_planted_row(vault_world):
    w = vault_world
    planted, _ = planted_members_key(w.org)
    fresh = new_kek("k2")
    with override_settings(VAULT_KEKS=f"{fresh},{TEST_KEK}"):
        report = keks_rotate()
        assert report.failed == [w.org.pk]
        planted.refresh_from_db()
        assert planted.tag_kek_id == "" and bytes(planted.tag) == b""
        # the org was left as it was, in one piece: still readable under the old KEK
        assert OrgKey.objects.get(org=w.org).kek_id == "test1"
        assert not vault_verify().ok


def test_org_key_rotation_retags_what_it_reseals(vault_world):
    w = vault_world
    org_key_rotate(org=w.org)
    row = OrgKey.objects.get(org=w.org)
    assert row.version == 2 and len(bytes(row.public_key_tag)) == 32
    assert vault_verify().ok
    make_item(w.alice, w.org, [w.collection])


def test_org_key_rotation_refuses_a_planted_row(vault_world):
    planted_members_key(vault_world.org)
    with pytest.raises(ItemUnreadable):
        org_key_rotate(org=vault_world.org)
    assert OrgKey.objects.get(org=vault_world.org).version == 1  # nothing changed


# --------------------------------------------------------------------------
# The migration that tags existing rows
# --------------------------------------------------------------------------

tag_migration = importlib.import_module("vault.migrations.0003_row_tags")


def test_migration_tags_existing_rows_under_their_own_kek(vault_world):
    w = vault_world
    older = new_kek("k0")
    DataKey.objects.update(tag_kek_id="", tag=b"")
    OrgKey.objects.update(public_key_tag=b"")
    assert not vault_verify().ok
    with override_settings(VAULT_KEKS=f"{TEST_KEK},{older}"):
        tag_migration.tag_existing_rows(apps, None)
        assert vault_verify().ok
    assert set(OrgKey.objects.values_list("kek_id", flat=True)) == {"test1"}
    assert content_of(w.alice, Item.objects.get(pk=w.item.pk)).name == "Bank login"


def test_migration_needs_no_key_on_an_empty_vault():
    with override_settings(VAULT_KEKS="", VAULT_KEKS_FILE=""):
        tag_migration.tag_existing_rows(apps, None)


def test_migration_with_rows_and_no_key_says_what_to_do(vault_world):
    with override_settings(VAULT_KEKS="", VAULT_KEKS_FILE=""):
        with pytest.raises(RuntimeError, match="Set VAULT_KEKS or VAULT_KEKS_FILE"):
            tag_migration.tag_existing_rows(apps, None)


@pytest.mark.django_db(transaction=True)  # schema changes cannot run inside the test's transaction
def test_migration_runs_backwards_and_forwards(vault_world):
    call_command("migrate", "vault", "0002", verbosity=0)
    call_command("migrate", "vault", verbosity=0)
    assert vault_verify().ok


def test_tag_keys_are_not_the_keks_themselves():
    """A tag key is derived (HKDF) from the KEK: a leaked tag key does not unwrap anything."""
    from vault.keys import _row_tag_key

    keyring = parse_keyring(TEST_KEK)
    assert _row_tag_key(keyring.get("test1")) != keyring.get("test1")
