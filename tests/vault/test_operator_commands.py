"""Operator commands (generate_kek, rotate_keks, rotate_org_key, verify_vault), the data
migration for existing orgs, and the start-up refusal without a key."""

from __future__ import annotations

import base64
import importlib
import io
import re

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import override_settings

from portal.models import Event, EventType
from tests import factories
from tests.portal.test_settings import ROOT, production_env, run_manage
from vault.checks import check_key_encryption_keys
from vault.keyring import configured_keyring
from vault.keys import parse_keyring
from vault.models import DataKey, Item, OrgKey

from .conftest import access_for, give_keys, make_item
from .test_item_forms import content_of

pytestmark = pytest.mark.django_db

TEST_KEK = "test1:dGVzdC1vbmx5LXZhdWx0LWtleS0wMDAwMDAwMDAwMDA="


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def new_kek(kek_id: str) -> str:
    return run("generate_kek", "--id", kek_id).strip()


def test_generate_kek_prints_exactly_one_usable_line():
    output = run("generate_kek", "--id", "dev1")
    assert output.count("\n") == 1
    keyring = parse_keyring(output)
    assert keyring.active_id == "dev1" and len(keyring.get("dev1")) == 32
    assert re.fullmatch(r"k\d{14}:\S+\n", run("generate_kek"))
    with pytest.raises(CommandError, match="invalid key id"):
        run("generate_kek", "--id", "bad|id")


@pytest.fixture
def populated(vault_world):
    w = vault_world
    third = factories.OrganizationFactory(name="Third")
    give_keys(third)
    w.names_before = {item.pk: content_of_any(item).name for item in Item.objects.all()}
    w.ciphertexts_before = dict(Item.objects.values_list("pk", "data_ciphertext"))
    return w


def content_of_any(item):
    owner = item.org.memberships.filter(role="owner").first().user
    return content_of(owner, item)


def assert_everything_reads_as_before(w):
    run("verify_vault")
    for item in Item.objects.all():
        assert content_of_any(item).name == w.names_before[item.pk]
        assert content_of_any(item).get("password") == "s3cret-Pa55"


def test_rotate_keks_rewraps_every_org_key_and_the_old_kek_can_go(populated):
    w = populated
    fresh = new_kek("k2")
    with override_settings(VAULT_KEKS=f"{fresh},{TEST_KEK}"):
        output = run("rotate_keks")
        assert "Orgs rewrapped and re-tagged: 3. Already under it: 0. Failed: 0." in output
        again = run("rotate_keks")
        assert (
            "Orgs rewrapped and re-tagged: 0. Already under it: 3. Failed: 0." in again
        )  # idempotent
    assert set(OrgKey.objects.values_list("kek_id", flat=True)) == {"k2"}
    with override_settings(VAULT_KEKS=fresh):
        assert_everything_reads_as_before(w)
    assert dict(Item.objects.values_list("pk", "data_ciphertext")) == w.ciphertexts_before


def test_rotate_keks_resumes_after_an_interruption(populated):
    from vault.key_management import _move_org_to_active_kek

    fresh = new_kek("k2")
    with override_settings(VAULT_KEKS=f"{fresh},{TEST_KEK}"):
        cut_short = OrgKey.objects.first().org_id
        _move_org_to_active_kek(cut_short, configured_keyring())  # the run that was cut short
        assert "Orgs rewrapped and re-tagged: 2. Already under it: 1. Failed: 0." in run(
            "rotate_keks"
        )


def test_rotate_keks_without_the_old_kek_fails_loudly(populated):
    with override_settings(VAULT_KEKS=new_kek("k2")):
        with pytest.raises(CommandError, match="could not be rewrapped"):
            run("rotate_keks")
    assert set(OrgKey.objects.values_list("kek_id", flat=True)) == {"test1"}
    assert Event.objects.filter(type=EventType.ITEM_DECRYPTION_FAILED).count() == 3


def test_rotate_org_key_reseals_data_keys_and_leaves_items_alone(populated):
    w = populated
    old_public = bytes(OrgKey.objects.get(org=w.org).public_key)
    sealed_before = dict(DataKey.objects.filter(org=w.org).values_list("pk", "sealed_key"))
    output = run("rotate_org_key", "--org", str(w.org.pk))
    assert "key pair version 2, 1 data keys resealed, items untouched" in output
    org_key = OrgKey.objects.get(org=w.org)  # the old key pair is gone
    assert (org_key.version, org_key.active) == (2, True) and bytes(
        org_key.public_key
    ) != old_public
    for data_key in DataKey.objects.filter(org=w.org):
        assert data_key.org_key_version == 2
        assert bytes(data_key.sealed_key) != bytes(sealed_before[data_key.pk])
    assert dict(Item.objects.values_list("pk", "data_ciphertext")) == w.ciphertexts_before
    assert_everything_reads_as_before(w)
    make_item(w.alice, w.org, [w.collection])  # and writing still works
    run("verify_vault", "--org", str(w.org.pk))


def test_rotate_org_key_needs_a_real_org():
    with pytest.raises(CommandError, match="a UUID"):
        run("rotate_org_key", "--org", "Alice Co")
    with pytest.raises(CommandError, match="No organization"):
        run("rotate_org_key", "--org", "00000000-0000-0000-0000-000000000000")


def test_verify_vault_lists_what_fails_by_id_and_exits_non_zero(populated):
    w = populated
    Item.objects.filter(pk=w.item.pk).update(data_ciphertext=w.other_item.data_ciphertext)
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 values failed to open"):
        call_command("verify_vault", stdout=io.StringIO(), stderr=err)
    assert str(w.item.pk) in err.getvalue() and "Bank" not in err.getvalue()
    run("verify_vault", "--org", str(w.other_org.pk))  # the other org is fine
    event = Event.objects.get(type=EventType.ITEM_DECRYPTION_FAILED)
    assert event.object_id == str(w.item.pk)


# --------------------------------------------------------------------------
# Migration for existing orgs, system check, start-up refusal
# --------------------------------------------------------------------------

migration = importlib.import_module("vault.migrations.0002_org_keys_for_existing_orgs")
tag_migration = importlib.import_module("vault.migrations.0003_row_tags")


def test_migration_gives_existing_orgs_their_keys(world):
    assert not OrgKey.objects.exists()  # factory orgs predate the vault
    migration.create_org_keys(apps, None)
    assert OrgKey.objects.count() == 2 and DataKey.objects.count() == 2
    migration.create_org_keys(apps, None)  # run twice: nothing more
    assert OrgKey.objects.count() == 2
    tag_migration.tag_existing_rows(apps, None)  # 0003 tags the rows 0002 made
    give_keys()  # (nothing to do)
    item = make_item(world.alice, world.org, [world.collection])
    assert content_of(world.alice, item).name == "Bank login"
    assert access_for(world.alice, world.org).reaches_all_items


def test_migration_without_orgs_needs_no_key():
    with override_settings(VAULT_KEKS="", VAULT_KEKS_FILE=""):
        migration.create_org_keys(apps, None)


def test_migration_with_orgs_and_no_key_says_what_to_do(world):
    with override_settings(VAULT_KEKS="", VAULT_KEKS_FILE=""):
        with pytest.raises(RuntimeError, match="Set VAULT_KEKS or VAULT_KEKS_FILE"):
            migration.create_org_keys(apps, None)


def test_system_check():
    assert check_key_encryption_keys(None) == []
    with override_settings(VAULT_KEKS="", VAULT_KEKS_FILE="", DEBUG=False):
        [error] = check_key_encryption_keys(None)
        assert error.id == "vault.E001"
    with override_settings(VAULT_KEKS="k1:c2hvcnQ=", DEBUG=True):
        [warning] = check_key_encryption_keys(None)
        assert warning.id == "vault.W001" and "decodes to 5 bytes" in warning.msg


@pytest.mark.skipif(not (ROOT / "manage.py").exists(), reason="needs the project checkout")
@pytest.mark.parametrize(
    ("keks", "message"),
    [
        ("", "no key-encryption keys configured"),
        ("k1:" + base64.b64encode(b"0" * 16).decode(), "decodes to 16 bytes"),
    ],
)
def test_production_refuses_to_start_without_a_good_key(keks, message):
    result = run_manage("check", **production_env(VAULT_KEKS=keks, VAULT_KEKS_FILE=""))
    assert result.returncode != 0
    assert "the vault has no usable key-encryption key" in result.stderr
    assert message in result.stderr


def test_rotate_org_key_with_an_unreadable_data_key_changes_nothing(populated):
    w = populated
    org_key_before = OrgKey.objects.values_list("version", "wrapped_private_key").get(org=w.org)
    broken = DataKey.objects.get(org=w.org)
    other = DataKey.objects.get(org=w.other_org)
    DataKey.objects.filter(pk=broken.pk).update(sealed_key=other.sealed_key)
    with pytest.raises(CommandError, match="Nothing was changed") as refused:
        run("rotate_org_key", "--org", str(w.org.pk))
    assert str(broken.pk) in str(refused.value) and "Bank" not in str(refused.value)
    assert OrgKey.objects.values_list("version", "wrapped_private_key").get(org=w.org) == (
        org_key_before
    )
    assert bytes(DataKey.objects.get(pk=broken.pk).sealed_key) == bytes(other.sealed_key)
    event = Event.objects.get(type=EventType.ITEM_DECRYPTION_FAILED)
    assert (event.org_id, event.details) == (
        w.org.pk,
        {"what": "data key", "data_key": str(broken.pk)},
    )


def test_rotate_org_key_of_an_org_without_keys_says_so():
    org = factories.OrganizationFactory(name="Keyless")
    with pytest.raises(CommandError, match="has no key pair yet"):
        run("rotate_org_key", "--org", str(org.pk))
    assert not OrgKey.objects.filter(org=org).exists()


def test_verify_vault_reports_an_unreadable_org_key_once(populated):
    w = populated
    third = OrgKey.objects.exclude(org__in=[w.org, w.other_org]).get()
    DataKey.objects.filter(org_id=third.org_id).delete()  # an org without data keys is checked
    for org_key in (OrgKey.objects.get(org=w.org), third):
        wrapped = bytearray(org_key.wrapped_private_key)
        wrapped[-1] ^= 1
        OrgKey.objects.filter(pk=org_key.pk).update(wrapped_private_key=bytes(wrapped))
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 values failed to open"):
        call_command("verify_vault", stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert sorted(lines) == sorted(
        f"  cannot open org key: org {org_id}" for org_id in (w.org.pk, third.org_id)
    )
