"""Collections: the list (nested, counted, scoped), create, rename, delete."""

from __future__ import annotations

import pytest
from django.utils import timezone

from clients.models import Collection
from portal.models import EventType
from tests import factories
from tests.vault.conftest import give_keys, make_item
from vault.models import Item

from .collections_helpers import count_queries, last_event, org_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def default(world):
    return factories.CollectionFactory(org=world.org, name="Default collection", is_default=True)


# --- the list ----------------------------------------------------------------


def test_list_nests_children_under_their_parent(world, login):
    for name in ["Finance A", "Finance/Banking", "Finance", "Finance/Banking/Cards", "Zeta"]:
        factories.CollectionFactory(org=world.org, name=name)
    content = login(world.alice).get(org_url("org_collections", world.org)).content.decode()
    positions = [
        content.index(f'title="{name}"')
        for name in ["Finance", "Finance/Banking", "Finance/Banking/Cards", "Finance A", "Zeta"]
    ]
    assert positions == sorted(positions)
    assert 'class="depth-2" title="Finance/Banking/Cards"' in content
    assert 'class="depth-0" title="Finance"' in content


def test_list_shows_only_this_orgs_collections_and_links(world, login):
    content = login(world.alice).get(org_url("org_collections", world.org)).content.decode()
    assert 'title="Shared"' in content and "Theirs" not in content
    assert org_url("org_collection_new", world.org) in content
    assert org_url("org_collection_access", world.org, collection_id=world.collection) in content
    assert org_url("org_collection_delete", world.org, collection_id=world.collection) in content


def test_list_search(world, login):
    factories.CollectionFactory(org=world.org, name="Finance")
    content = (
        login(world.alice).get(org_url("org_collections", world.org), {"q": "fin"}).content.decode()
    )
    assert 'title="Finance"' in content and 'title="Shared"' not in content


def test_list_counts_items_outside_the_trash_and_shows_no_item_data(world, login):
    give_keys(world.org)
    make_item(world.alice, world.org, [world.collection])
    make_item(world.alice, world.org, [world.collection])
    trashed = make_item(world.alice, world.org, [world.collection])
    Item.objects.filter(pk=trashed.pk).update(deleted_at=timezone.now())
    response = login(world.provider_admin).get(org_url("org_collections", world.org))
    row = response.content.decode().split('title="Shared"')[1].split("</tr>")[0]
    assert '<td class="num">2</td>' in row  # items
    assert b"Bank login" not in response.content  # the structure, never an item


def test_default_collection_has_no_delete_link(world, login, default):
    content = login(world.alice).get(org_url("org_collections", world.org)).content.decode()
    assert org_url("org_collection_delete", world.org, collection_id=default) not in content
    assert org_url("org_collection_edit", world.org, collection_id=default) in content


@pytest.mark.parametrize("who", ["alice", "provider_admin"])
def test_list_queries_do_not_grow_with_collections(world, login, who):
    give_keys(world.org)

    def add(count):
        for _ in range(count):
            collection = factories.CollectionFactory(org=world.org)
            factories.CollectionMemberGrantFactory(collection=collection)
            factories.CollectionGroupGrantFactory(collection=collection)
        make_item(world.alice, world.org, [collection])

    client = login(getattr(world, who))
    url = org_url("org_collections", world.org)
    client.get(url)  # a provider's first entry of the session is logged once
    add(5)
    small = count_queries(client, url)
    add(45)
    assert count_queries(client, url) == small


# --- create ------------------------------------------------------------------


def test_create_collection(world, login):
    response = login(world.alice).post(
        org_url("org_collection_new", world.org), {"name": " Finance / Banking "}
    )
    collection = world.org.collections.get(name="Finance/Banking")
    assert response.status_code == 302
    assert response["Location"] == org_url(
        "org_collection_access", world.org, collection_id=collection
    )
    event = last_event(world.org, EventType.COLLECTION_CREATED)
    assert event.details == {"name": "Finance/Banking"}
    assert event.object_id == str(collection.pk) and event.actor == world.alice


def test_provider_creates_collection_and_the_event_names_the_provider(world, login):
    login(world.service_user).post(org_url("org_collection_new", world.org), {"name": "Ops"})
    event = last_event(world.org, EventType.COLLECTION_CREATED)
    assert event.acting_provider == world.provider and event.actor == world.service_user


@pytest.mark.parametrize("name", ["Shared", "shared", "Finance//Banking", "/", ""])
def test_create_refuses_duplicate_or_empty_names_and_keeps_the_input(world, login, name):
    before = Collection.objects.count()
    response = login(world.alice).post(org_url("org_collection_new", world.org), {"name": name})
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    if name:
        assert f'value="{name}"'.encode() in response.content
    assert Collection.objects.count() == before


def test_same_name_in_another_org_is_fine(world, login):
    login(world.alice).post(org_url("org_collection_new", world.org), {"name": "Theirs"})
    assert world.org.collections.filter(name="Theirs").exists()


# --- rename ------------------------------------------------------------------


def test_rename_collection(world, login):
    url = org_url("org_collection_edit", world.org, collection_id=world.collection)
    response = login(world.alice).post(url, {"name": "Shared/Team"})
    assert response.status_code == 302
    world.collection.refresh_from_db()
    assert world.collection.name == "Shared/Team"
    event = last_event(world.org, EventType.COLLECTION_UPDATED)
    assert event.details == {"name": "Shared/Team", "changes": {"name": ["Shared", "Shared/Team"]}}


def test_rename_to_a_taken_name_is_a_form_error(world, login):
    factories.CollectionFactory(org=world.org, name="Finance")
    url = org_url("org_collection_edit", world.org, collection_id=world.collection)
    response = login(world.alice).post(url, {"name": "FINANCE"})
    assert response.status_code == 200 and "already exists" in response.content.decode()
    world.collection.refresh_from_db()
    assert world.collection.name == "Shared"


def test_rename_without_change_writes_no_event(world, login):
    url = org_url("org_collection_edit", world.org, collection_id=world.collection)
    login(world.alice).post(url, {"name": "Shared"})
    assert not world.org.events.filter(type=EventType.COLLECTION_UPDATED).exists()


def test_another_orgs_collection_under_this_orgs_url_is_404(world, login):
    client = login(world.alice)
    for name in ["org_collection_edit", "org_collection_access", "org_collection_delete"]:
        url = org_url(name, world.org, collection_id=world.other_collection)
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "Mine now"}).status_code == 404
    world.other_collection.refresh_from_db()
    assert world.other_collection.name == "Theirs"
    assert Collection.objects.filter(pk=world.other_collection.pk).exists()


def test_wrong_method_is_405(world, login):
    url = org_url("org_collection_edit", world.org, collection_id=world.collection)
    assert login(world.alice).put(url).status_code == 405


# --- delete ------------------------------------------------------------------


def test_delete_moves_lone_items_to_the_default_collection(world, login, default):
    give_keys(world.org)
    other = factories.CollectionFactory(org=world.org, name="Other")
    alone = make_item(world.alice, world.org, [world.collection])
    trashed = make_item(world.alice, world.org, [world.collection])
    Item.objects.filter(pk=trashed.pk).update(deleted_at=timezone.now())
    shared = make_item(world.alice, world.org, [world.collection, other])
    client = login(world.alice)
    url = org_url("org_collection_delete", world.org, collection_id=world.collection)

    page = client.get(url).content.decode()
    assert "2 items" in page and "move to the default collection" in page

    response = client.post(url)
    assert response.status_code == 302
    assert not Collection.objects.filter(pk=world.collection.pk).exists()
    assert set(alone.collections.all()) == {default}
    assert set(trashed.collections.all()) == {default}  # never deleted, trash included
    assert set(shared.collections.all()) == {other}  # it had somewhere else to be
    assert Item.objects.filter(org=world.org).count() == 3
    event = last_event(world.org, EventType.COLLECTION_DELETED)
    assert event.details == {"name": "Shared", "items_moved": 2}
    assert event.object_id == str(world.collection.pk)


def test_the_default_collection_cannot_be_deleted(world, login, default):
    client = login(world.alice)
    url = org_url("org_collection_delete", world.org, collection_id=default)
    assert "cannot be deleted" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "cannot be deleted" in response.content.decode()
    assert Collection.objects.filter(pk=default.pk).exists()
    assert not world.org.events.filter(type=EventType.COLLECTION_DELETED).exists()


def test_delete_without_a_default_collection_keeps_the_items(world, login):
    give_keys(world.org)
    item = make_item(world.alice, world.org, [world.collection])
    url = org_url("org_collection_delete", world.org, collection_id=world.collection)
    response = login(world.alice).post(url, follow=True)
    assert "no default collection" in response.content.decode()
    assert set(item.collections.all()) == {world.collection}


def test_delete_an_empty_collection_without_a_default(world, login):
    url = org_url("org_collection_delete", world.org, collection_id=world.collection)
    assert login(world.alice).post(url).status_code == 302
    assert not Collection.objects.filter(pk=world.collection.pk).exists()
