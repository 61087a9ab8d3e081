"""Item tallies: after every kind of write each tally equals a count in SQL, and the vault
list reads the tally instead of counting rows when the tally is exactly what it lists."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Collection
from clients.services.collections import collection_delete
from policies.models import Policy, PolicyType
from portal.access import collection_management, resolve
from tests import factories
from tests.vault.imports.conftest import as_json, run_import
from vault.bench import seed_items
from vault.content import ItemType
from vault.models import Item, ItemTally
from vault.services import item_delete, item_move, item_restore, item_trash

from .conftest import access_for, login_content, make_item
from .helpers import vault_url

pytestmark = pytest.mark.django_db


def counted(org, collection=None) -> int:
    items = Item.objects.filter(org=org, deleted_at__isnull=True)
    if collection is not None:
        items = items.filter(collections=collection)
    return items.count()


def assert_tallies_hold(org) -> None:
    tallies = ItemTally.objects.filter(org=org)
    assert tallies.filter(collection=None).exists()
    for tally in tallies:
        collection = Collection.objects.get(pk=tally.collection_id) if tally.collection_id else None
        assert tally.live == counted(org, collection), f"tally of {collection or org}"


def test_every_write_keeps_the_tallies(vault_world):
    w = vault_world
    access = access_for(w.alice, w.org)
    board = factories.CollectionFactory(org=w.org, name="Board")
    both = make_item(w.alice, w.org, [w.collection, board], login_content("In both"))
    assert_tallies_hold(w.org)
    item = item_move(
        access=access, item_id=both.pk, revision=both.revision, collection_ids=[board.pk]
    )
    assert_tallies_hold(w.org)
    item_trash(access=access, item_id=item.pk)
    assert_tallies_hold(w.org)
    item_restore(access=access, item_id=item.pk)
    assert_tallies_hold(w.org)
    item_trash(access=access, item_id=item.pk)
    item_delete(access=access, item_id=item.pk)
    assert_tallies_hold(w.org)
    items = [{"type": 2, "name": f"Note {n}", "secureNote": {"type": 0}} for n in range(4)]
    job = run_import(
        w.alice, w.org, as_json({"encrypted": False, "items": items}), collection=board
    )
    assert job.counts == {"secure_note": 4}
    assert_tallies_hold(w.org)
    seed_items(w.org, [board, w.collection], 3)
    assert_tallies_hold(w.org)


def test_deleting_a_collection_moves_its_tally_to_the_default_one(vault_world):
    w = vault_world
    default = factories.CollectionFactory(org=w.org, name="Default", is_default=True)
    doomed = factories.CollectionFactory(org=w.org, name="Doomed")
    make_item(w.alice, w.org, [default], login_content("Already there"))
    make_item(w.alice, w.org, [doomed], login_content("Moves"))
    trashed = make_item(w.alice, w.org, [doomed], login_content("Moves, in the trash"))
    item_trash(access=access_for(w.alice, w.org), item_id=trashed.pk)
    actor = resolve(w.alice, w.org)
    collection_delete(actor=actor, management=collection_management(actor), collection=doomed)
    assert ItemTally.objects.get(collection=default).live == 2
    assert_tallies_hold(w.org)


def test_a_tally_missing_for_older_data_is_made_from_a_count(vault_world):
    w = vault_world
    seed_items(w.org, [w.collection], 5)
    ItemTally.objects.filter(org=w.org).delete()  # as before the tallies existed
    make_item(w.alice, w.org, [w.collection], login_content("Next"))
    assert ItemTally.objects.get(collection=w.collection).live == 7
    assert_tallies_hold(w.org)


def _collection_counts(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"] and "vault_item_collections" in q["sql"]
    ]


def test_an_import_counts_collections_before_writing_not_after(vault_world):
    """Right after a bulk write the planner has no statistics for the new rows, and a
    count joining them took minutes at 100,000 items: a collection the import creates
    starts its tally from the import's own count, an existing one from a count taken
    before the items were written."""
    w = vault_world
    seed_items(w.org, [w.collection], 3)
    ItemTally.objects.filter(org=w.org).delete()  # as before the tallies existed
    before = counted(w.org, w.collection)
    items = [
        {"type": 2, "name": f"Note {n}", "secureNote": {"type": 0}, "folderId": "f1"}
        for n in range(4)
    ] + [
        {"type": 2, "name": f"Old {n}", "secureNote": {"type": 0}, "folderId": "f2"}
        for n in range(2)
    ]
    folders = [{"id": "f1", "name": "Brand new"}, {"id": "f2", "name": w.collection.name}]
    export = as_json({"encrypted": False, "folders": folders, "items": items})
    with CaptureQueriesContext(connection) as captured:
        job = run_import(w.alice, w.org, export)
    assert job.counts == {"secure_note": 6}
    created = Collection.objects.get(org=w.org, name="Brand new")
    assert ItemTally.objects.get(collection=created).live == 4
    assert ItemTally.objects.get(collection=w.collection).live == before + 2
    assert_tallies_hold(w.org)
    # One count of the existing collection, taken before any item of the import was
    # written; none of the collection it created.
    counts = _collection_counts(captured)
    assert len(counts) == 1 and str(w.collection.pk).replace("-", "") in counts[0].replace("-", "")
    first_insert = next(
        n
        for n, q in enumerate(captured.captured_queries)
        if q["sql"].startswith("INSERT")
        and "vault_item" in q["sql"].split("(")[0]
        or q["sql"].startswith("COPY")
    )
    count_at = next(n for n, q in enumerate(captured.captured_queries) if q["sql"] == counts[0])
    assert count_at < first_insert


def count_queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_the_list_reads_the_tally_not_the_rows(vault_world, login, who):
    w = vault_world
    seed_items(w.org, [w.collection], 30)  # two pages
    client = login(getattr(w, who))
    url = vault_url("item_list", w.org)
    assert count_queries(client, url) == []
    assert b"(31 in all)" in client.get(url).content
    # A member reaching two collections, or a filter a tally does not hold: counted in SQL.
    assert count_queries(client, url + "?type=login")
    assert b"(31 in all)" in client.get(url + "?type=login").content


def test_with_cards_hidden_an_owners_list_counts_the_cards_only(vault_world, login):
    """A policy hides cards: the owner's total is the org's tally less its live cards,
    counted on their own index; a member's is still counted in SQL."""
    w = vault_world
    seed_items(w.org, [w.collection], 30)
    seed_items(w.org, [w.collection], 5, item_type=ItemType.CARD)
    card = Item.objects.filter(org=w.org, type=ItemType.CARD).first()
    item_trash(access=access_for(w.alice, w.org), item_id=card.pk)
    Policy.objects.create(org=w.org, type=PolicyType.REMOVE_CARD_ITEM_TYPE, enabled=True)
    owner = login(w.alice)
    url = vault_url("item_list", w.org)

    [count] = count_queries(owner, url)
    assert '"vault_item"."type" IN' in count and "NOT (" not in count  # the cards alone
    assert b"(31 in all)" in owner.get(url).content  # 31 logins; 4 live cards, 1 trashed
    assert b"(31 in all)" in login(w.bob).get(url).content
