"""Deleting a collection while a member moves an item out of its other collection: the item
must still end up in some collection (here: kept where it was, or moved to the default).

Needs real row locks, so Postgres; SQLite serialises whole-database writes and ignores
SELECT ... FOR UPDATE, which would make this test prove nothing.
"""

import threading
import time

import pytest
from django.db import connection, connections

from clients.services import collections as collection_services
from portal.access import collection_management, resolve
from tests import factories
from tests.vault.conftest import access_for, give_keys, make_item
from vault.models import Item
from vault.services import VaultError, item_move

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres row locks (set DATABASE_URL=postgres://...)",
    ),
]


def test_an_item_moved_during_a_collection_delete_is_never_left_without_one(world, monkeypatch):
    give_keys(world.org)
    factories.CollectionFactory(org=world.org, name="Default", is_default=True)
    other = factories.CollectionFactory(org=world.org, name="Other")
    item = make_item(world.alice, world.org, [world.collection, other])
    looked = threading.Event()
    items_only_in = collection_services.items_only_in

    def slow_items_only_in(collection):
        # The delete has decided which items move (none: the item is in "Other" too).
        ids = list(items_only_in(collection).values_list("pk", flat=True))
        looked.set()
        time.sleep(0.5)
        return Item.objects.filter(pk__in=ids)

    monkeypatch.setattr(collection_services, "items_only_in", slow_items_only_in)
    results: dict[str, object] = {}

    def delete():
        try:
            actor = resolve(world.alice, world.org)
            results["moved"] = collection_services.collection_delete(
                actor=actor, management=collection_management(actor), collection=world.collection
            )
        finally:
            connections.close_all()

    def move_out_of_other():
        try:
            assert looked.wait(timeout=10)
            access = access_for(world.alice, world.org)
            try:
                item_move(
                    access=access,
                    item_id=item.pk,
                    revision=item.revision,
                    collection_ids=[world.collection.pk],
                )
                results["move"] = "done"
            except VaultError as error:
                results["move"] = str(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=delete), threading.Thread(target=move_out_of_other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results["moved"] == 0
    assert "move" in results
    assert item.collections.exists(), "the item was left in no collection"
