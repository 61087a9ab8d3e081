"""The encrypted name index: ciphertext only, kept right by every write, never trusted blindly.

Each test searches through the page (a POST, as members do) after one kind of change,
and checks what is found against what the items really are called.
"""

from __future__ import annotations

import base64
import json

import pytest

from portal.models import Event, EventType
from tests import factories
from tests.vault.imports.conftest import as_json, run_import
from vault import name_index, selectors
from vault.bench import seed_items
from vault.crypto import KeyChain
from vault.key_management import keks_rotate, org_key_rotate
from vault.keyring import configured_keyring
from vault.keys import parse_keyring
from vault.models import DataKey, DataKeyPurpose, Item, NameIndexSegment
from vault.services import (
    ItemEdit,
    item_delete,
    item_move,
    item_restore,
    item_trash,
    item_update,
)

from .conftest import access_for, login_content, make_item
from .helpers import vault_url

pytestmark = pytest.mark.django_db


def found(client, w, term: str, **filters) -> bytes:
    response = client.post(vault_url("item_list", w.org), {"q": term, **filters})
    assert response.status_code == 200
    return response.content


def segments(org):
    return NameIndexSegment.objects.filter(org=org)


def test_a_new_org_starts_with_an_empty_complete_index(vault_world):
    w = vault_world
    first = segments(w.org).order_by("created_at").first()
    assert first.complete and first.entries == 0
    assert segments(w.org).filter(complete=False, entries=1).count() == 1  # the fixture's item


def test_segments_hold_ciphertext_only_bound_to_org_and_row(vault_world, login):
    w = vault_world
    make_item(w.alice, w.org, [w.collection], login_content("Quokka savings"))
    assert b"Quokka savings" in found(login(w.alice), w, "quokka")
    for segment in NameIndexSegment.objects.all():
        assert b"Quokka" not in bytes(segment.ciphertext) and b"Bank" not in bytes(
            segment.ciphertext
        )
    # A segment's ciphertext copied to another org's (or another row) does not open there.
    theirs = segments(w.other_org).first()
    ours = segments(w.org).exclude(entries=0).first()
    theirs.ciphertext = ours.ciphertext
    with pytest.raises(Exception, match="could not open name index segment"):
        name_index._open_segment(theirs, KeyChain(w.other_org.pk))


def test_created_renamed_and_imported_items_are_found(vault_world, login):
    w = vault_world
    client = login(w.alice)
    make_item(w.alice, w.org, [w.collection], login_content("Brand new"))
    assert b"Brand new" in found(client, w, "new")
    item_update(
        access=access_for(w.alice, w.org),
        item_id=w.item.pk,
        revision=w.item.revision,
        edit=ItemEdit(content=login_content("Credit union")),
    )
    assert b"Credit union" not in found(client, w, "bank")
    assert b"Credit union" in found(client, w, "credit")
    items = [{"type": 1, "name": f"Imported {n}", "login": {"username": "u"}} for n in range(3)]
    job = run_import(w.alice, w.org, as_json({"encrypted": False, "items": items}))
    assert job.counts == {"login": 3}
    page = found(client, w, "imported")
    assert all(f"Imported {n}".encode() in page for n in range(3))
    # The import wrote its names under its own data key: it never opened the members' one.
    imported = segments(w.org).filter(data_key__purpose=DataKeyPurpose.IMPORT)
    assert imported.count() == 1 and imported.get().entries == 3


def test_moved_trashed_restored_and_deleted_items(vault_world, login):
    w = vault_world
    client = login(w.bob)  # bob reaches w.collection only
    board = factories.CollectionFactory(org=w.org, name="Board")
    access = access_for(w.alice, w.org)
    item = make_item(w.alice, w.org, [w.collection], login_content("Walrus fund"))
    assert b"Walrus fund" in found(client, w, "walrus")
    item = item_move(
        access=access, item_id=item.pk, revision=item.revision, collection_ids=[board.pk]
    )
    assert b"Walrus fund" not in found(client, w, "walrus")  # out of bob's reach
    item_move(
        access=access, item_id=item.pk, revision=item.revision, collection_ids=[w.collection.pk]
    )
    item_trash(access=access, item_id=item.pk)
    assert b"Walrus fund" not in found(client, w, "walrus")
    assert b"Walrus fund" in found(client, w, "walrus", trash="1")
    item_restore(access=access, item_id=item.pk)
    assert b"Walrus fund" in found(client, w, "walrus")
    item_trash(access=access, item_id=item.pk)
    item_delete(access=access, item_id=item.pk)
    assert b"Walrus fund" not in found(client, w, "walrus", trash="1")
    assert b"Bank login" in found(client, w, "bank")


def test_a_member_finds_only_what_they_reach(vault_world, login):
    w = vault_world
    board = factories.CollectionFactory(org=w.org, name="Board")
    make_item(w.alice, w.org, [board], login_content("Board bank"))
    page = found(login(w.bob), w, "bank")
    assert b"Bank login" in page and b"Board bank" not in page
    assert b"Board bank" in found(login(w.alice), w, "bank")


def test_rotations_leave_the_index_readable(vault_world, login, settings):
    w = vault_world
    client = login(w.alice)
    org_key_rotate(org=w.org)  # data keys resealed: the segments under them still open
    assert b"Bank login" in found(client, w, "bank")
    old = configured_keyring()
    spec = ",".join(
        f"{kek_id}:{base64.b64encode(key).decode()}"
        for kek_id, key in (("k9", b"n" * 32), *old.entries)
    )
    settings.VAULT_KEKS = spec  # a new active KEK first, the old one still there
    assert keks_rotate(keyring=parse_keyring(spec)).failed == []
    assert b"Bank login" in found(client, w, "bank")
    assert not Event.objects.filter(type=EventType.ITEM_DECRYPTION_FAILED).exists()


def test_a_tampered_segment_is_recorded_and_the_index_rebuilt(vault_world, login):
    w = vault_world
    segment = segments(w.org).exclude(entries=0).get()
    broken = bytes(segment.ciphertext)
    NameIndexSegment.objects.filter(pk=segment.pk).update(
        ciphertext=broken[:-1] + bytes([broken[-1] ^ 1])
    )
    assert b"Bank login" in found(login(w.alice), w, "bank")  # rebuilt from the items
    failure = Event.objects.get(type=EventType.ITEM_DECRYPTION_FAILED)
    assert failure.details["what"] == "name index segment"
    assert not segments(w.org).filter(pk=segment.pk).exists()


def test_a_planted_segment_under_a_forged_data_key_is_not_trusted(vault_world, login):
    w = vault_world
    genuine = segments(w.org).exclude(entries=0).get()
    data_key = KeyChain(w.org.pk).data_key(genuine.data_key_id)
    forged_key = DataKey.objects.create(
        org=w.org, sealed_key=b"x" * 80, org_key_version=1, purpose=DataKeyPurpose.MEMBERS
    )
    # Someone who can write rows plants "Evil name" for the real item, sealed under a key
    # row without a valid tag (they could never make one that opens without a KEK).
    planted = name_index._seal(
        org_id=w.org.pk,
        data_key_row=forged_key,
        data_key=data_key,
        entries=[(w.item.pk.bytes, name_index.name_tag(w.item.name_ciphertext), "Evil name")],
        complete=True,
    )
    planted.save(force_insert=True)
    page = found(login(w.alice), w, "name")
    assert b"Evil name" not in page
    assert b"Bank login" in found(login(w.alice), w, "bank")


def test_an_item_whose_stored_name_was_swapped_is_opened_not_taken_from_the_index(
    vault_world, login
):
    w = vault_world
    donor = make_item(w.alice, w.org, [w.collection], login_content("Donor name"))
    Item.objects.filter(pk=w.item.pk).update(name_ciphertext=donor.name_ciphertext)
    page = found(login(w.alice), w, "bank")
    assert b"Bank login" not in page  # its entry no longer matches the stored ciphertext
    failure = Event.objects.get(type=EventType.ITEM_DECRYPTION_FAILED)
    assert failure.object_id == str(w.item.pk)


def test_an_org_without_an_index_is_rebuilt_once_by_its_first_search(vault_world, login):
    w = vault_world
    make_item(w.alice, w.org, [w.collection], login_content("Older item"))
    segments(w.org).delete()  # as an org whose items predate the index
    client = login(w.bob)
    assert b"Older item" in found(client, w, "older")
    rebuilt = segments(w.org).get()
    assert rebuilt.complete and rebuilt.entries == 2
    assert b"Bank login" in found(client, w, "bank")
    assert segments(w.org).get() == rebuilt


def test_many_segments_are_compacted_into_one(vault_world, login):
    w = vault_world
    for n in range(name_index.COMPACT_AT + 1):
        make_item(w.alice, w.org, [w.collection], login_content(f"Many {n:02d}"))
    assert segments(w.org).count() > name_index.COMPACT_AT
    page = found(login(w.alice), w, "many")
    assert all(f"Many {n:02d}".encode() in page for n in range(name_index.COMPACT_AT + 1))
    compacted = segments(w.org).get()
    assert compacted.complete and compacted.entries == name_index.COMPACT_AT + 2
    opened = name_index._open_segment(compacted, KeyChain(w.org.pk))
    assert sorted(opened.names) == sorted(
        ["Bank login", *(f"Many {n:02d}" for n in range(name_index.COMPACT_AT + 1))]
    )
    assert json.dumps(opened.names)  # plain strings, nothing else


def test_a_search_matching_most_of_the_org_counts_only_what_the_member_reaches(vault_world, login):
    w = vault_world
    board = factories.CollectionFactory(org=w.org, name="Board")
    seed_items(w.org, [w.collection], selectors._MATCHES_BY_ID_MAX + 10, name_prefix="Wide")
    seed_items(w.org, [board], 7, name_prefix="Wide board")
    bob_page = found(login(w.bob), w, "wide")
    assert f"({selectors._MATCHES_BY_ID_MAX + 10} found)".encode() in bob_page
    assert b"Wide board" not in bob_page
    alice_page = found(login(w.alice), w, "wide")
    assert f"({selectors._MATCHES_BY_ID_MAX + 17} found)".encode() in alice_page
    # The page's rows are checked against their own ciphertext, as with few matches.
    first = make_item(w.alice, w.org, [w.collection], login_content("Wide !first"))
    donor = make_item(w.alice, w.org, [board], login_content("Donor"))
    Item.objects.filter(pk=first.pk).update(name_ciphertext=donor.name_ciphertext)
    page = found(login(w.alice), w, "wide")
    assert b"Wide !first" not in page
    failure = Event.objects.get(type=EventType.ITEM_DECRYPTION_FAILED)
    assert failure.object_id == str(first.pk)


def test_a_segment_flipped_to_complete_does_not_open(vault_world, login):
    w = vault_world
    segments(w.org).filter(complete=True).delete()  # hide the older names...
    delta = segments(w.org).get()
    NameIndexSegment.objects.filter(pk=delta.pk).update(complete=True)  # ...behind this one
    assert b"Bank login" in found(login(w.alice), w, "bank")  # recorded, then rebuilt
    assert Event.objects.filter(type=EventType.ITEM_DECRYPTION_FAILED).exists()
