"""The vault list (filters, search, pages) and the item actions: move, trash, restore, delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clients.models import AccessLevel
from portal.models import Event, EventType
from tests import factories
from vault.content import ItemContent, ItemType
from vault.models import Favorite, Item
from vault.services import item_trash
from vault.tasks import purge_trash

from .conftest import access_for, login_content, make_item
from .helpers import vault_url

pytestmark = pytest.mark.django_db


def test_list_shows_names_of_reachable_items_only(vault_world, login):
    w = vault_world
    hidden = factories.CollectionFactory(org=w.org, name="Board")
    make_item(w.alice, w.org, [hidden], login_content("Board secret"))
    bob_page = login(w.bob).get(vault_url("item_list", w.org))
    assert bob_page.status_code == 200 and "no-store" in bob_page["Cache-Control"]
    assert b"Bank login" in bob_page.content and b"Board secret" not in bob_page.content
    alice_page = login(w.alice).get(vault_url("item_list", w.org))
    assert b"Board secret" in alice_page.content
    custom_page = login(w.custom).get(vault_url("item_list", w.org))
    assert custom_page.status_code == 200 and b"Bank login" not in custom_page.content


def test_list_never_shows_another_orgs_items(vault_world, login):
    w = vault_world
    make_item(w.charlie, w.other_org, [w.other_collection], login_content("Theirs only"))
    page = login(w.alice).post(vault_url("item_list", w.org), {"q": "only"})
    assert b"Theirs only" not in page.content


def test_filters_by_type_collection_favourites_and_trash(vault_world, login):
    w = vault_world
    other = factories.CollectionFactory(org=w.org, name="Other")
    note = make_item(w.alice, w.org, [other], ItemContent(type=ItemType.SECURE_NOTE, name="A note"))
    trashed = make_item(w.alice, w.org, [w.collection], login_content("Old one"))
    item_trash(access=access_for(w.alice, w.org), item_id=trashed.pk)
    Favorite.objects.create(user=w.alice, item=note)
    client = login(w.alice)

    def names(**params):
        return client.get(vault_url("item_list", w.org), params).content

    assert b"A note" in names(type="secure_note") and b"Bank login" not in names(type="secure_note")
    assert b"A note" in names(collection=other.pk) and b"Bank login" not in names(
        collection=other.pk
    )
    assert b"A note" in names(favorites=1) and b"Bank login" not in names(favorites=1)
    assert b"Old one" in names(trash=1) and b"Old one" not in names()
    assert b"That filter is not available" in names(collection=w.other_collection.pk)


def test_search_is_posted_and_covers_every_page(vault_world, login):
    w = vault_world
    for n in range(30):
        make_item(w.alice, w.org, [w.collection], login_content(f"Filler {n:02d}"))
    make_item(w.alice, w.org, [w.collection], login_content("Needle in the haystack"))
    client = login(w.alice)
    first_page = client.get(vault_url("item_list", w.org))
    assert b"Page 1 of 2" in first_page.content
    found = client.post(vault_url("item_list", w.org), {"q": "NEEDLE"})
    assert found.status_code == 200
    assert b"Needle in the haystack" in found.content and b"Filler" not in found.content
    fillers = client.post(vault_url("item_list", w.org), {"q": "filler", "page": "2"})
    assert b"Filler 25" in fillers.content and b"Filler 00" not in fillers.content
    assert b'name="page" value="1"' in fillers.content  # search pages are POSTed too
    assert client.post(vault_url("item_list", w.org), {"q": "zzz"}).content.count(b"<tr>") == 0


def test_move_between_collections(vault_world, login):
    w = vault_world
    target = factories.CollectionFactory(org=w.org, name="Target")
    client = login(w.alice)
    assert client.get(vault_url("item_move", w.org, w.item)).status_code == 200
    response = client.post(
        vault_url("item_move", w.org, w.item),
        {"collections": [str(target.pk)], "revision": w.item.revision},
    )
    assert response.status_code == 302
    assert list(Item.objects.get(pk=w.item.pk).collections.all()) == [target]
    [moved] = Event.objects.filter(type=EventType.ITEM_MOVED)
    assert moved.details == {"from": [str(w.collection.pk)], "to": [str(target.pk)]}


def test_move_refuses_another_orgs_collection_and_an_empty_choice(vault_world, login):
    w = vault_world
    client = login(w.alice)
    url = vault_url("item_move", w.org, w.item)
    foreign = client.post(url, {"collections": [str(w.other_collection.pk)], "revision": 1})
    assert foreign.status_code == 200 and b"Select a valid choice" in foreign.content
    empty = client.post(url, {"revision": 1})
    assert b"Choose at least one collection" in empty.content
    assert list(Item.objects.get(pk=w.item.pk).collections.all()) == [w.collection]


def test_move_keeps_collections_the_mover_cannot_change(vault_world, login):
    w = vault_world
    bob = w.bob.memberships.get()
    bob.collection_grants.update(level=AccessLevel.VIEW)
    mine = factories.CollectionFactory(org=w.org, name="Bob's")
    factories.CollectionMemberGrantFactory(collection=mine, membership=bob, level=AccessLevel.EDIT)
    item = make_item(w.alice, w.org, [w.collection, mine])
    other_mine = factories.CollectionFactory(org=w.org, name="Bob's too")
    factories.CollectionMemberGrantFactory(
        collection=other_mine, membership=bob, level=AccessLevel.MANAGE
    )
    response = login(w.bob).post(
        vault_url("item_move", w.org, item), {"collections": [str(other_mine.pk)], "revision": 1}
    )
    assert response.status_code == 302
    assert set(Item.objects.get(pk=item.pk).collections.all()) == {w.collection, other_mine}


def test_view_level_cannot_move_trash_or_delete(vault_world, login):
    w = vault_world
    client = login(w.bob)
    assert client.get(vault_url("item_move", w.org, w.item)).status_code == 403
    assert client.post(vault_url("item_trash", w.org, w.item)).status_code == 403
    assert client.post(vault_url("item_restore", w.org, w.item)).status_code == 403
    assert client.post(vault_url("item_delete", w.org, w.item), {"confirm": "1"}).status_code == 403
    assert not Item.objects.get(pk=w.item.pk).in_trash


def test_trash_restore_and_delete_for_good(vault_world, login):
    w = vault_world
    client = login(w.alice)
    refused = client.post(vault_url("item_delete", w.org, w.item), {"confirm": "1"}, follow=True)
    assert b"Move the item to the trash first" in refused.content
    assert client.post(vault_url("item_trash", w.org, w.item)).status_code == 302
    assert Item.objects.get(pk=w.item.pk).in_trash
    page = client.get(vault_url("item_detail", w.org, w.item))
    assert b"Restore" in page.content and b"Delete for good" in page.content
    assert client.post(vault_url("item_restore", w.org, w.item)).status_code == 302
    assert not Item.objects.get(pk=w.item.pk).in_trash
    client.post(vault_url("item_trash", w.org, w.item))
    unconfirmed = client.post(vault_url("item_delete", w.org, w.item), follow=True)
    assert b"Tick the box" in unconfirmed.content and Item.objects.filter(pk=w.item.pk).exists()
    assert client.post(vault_url("item_delete", w.org, w.item), {"confirm": "1"}).status_code == 302
    assert not Item.objects.filter(pk=w.item.pk).exists()
    assert client.get(vault_url("item_detail", w.org, w.item)).status_code == 404


def test_favourites_are_per_user(vault_world, login):
    w = vault_world
    login(w.alice).post(vault_url("item_favorite", w.org, w.item), {"favorite": "1"})
    assert Favorite.objects.filter(user=w.alice, item=w.item).exists()
    assert (
        b"Bank login"
        not in login(w.bob).get(vault_url("item_list", w.org), {"favorites": 1}).content
    )
    login(w.alice).post(vault_url("item_favorite", w.org, w.item), {"favorite": "0"})
    assert not Favorite.objects.exists()


def test_every_item_event_is_written_with_ids_only(vault_world, login):
    w = vault_world
    client = login(w.alice)
    target = factories.CollectionFactory(org=w.org, name="T")
    client.get(vault_url("item_detail", w.org, w.item))
    for field in ("password", "totp", "custom:c1"):
        client.post(vault_url("item_reveal", w.org, w.item), {"field": field})
    client.post(vault_url("item_copy", w.org, w.item))
    card = make_item(
        w.alice,
        w.org,
        [w.collection],
        ItemContent(type=ItemType.CARD, name="Card", fields={"code": "1"}),
    )
    client.post(vault_url("item_reveal", w.org, card), {"field": "code"})
    client.post(
        vault_url("item_move", w.org, w.item), {"collections": [str(target.pk)], "revision": 1}
    )
    from .test_item_forms import edit_post

    client.post(vault_url("item_edit", w.org, w.item), edit_post(w, w.item, name="E"))
    client.post(vault_url("item_trash", w.org, w.item))
    client.post(vault_url("item_restore", w.org, w.item))
    client.post(vault_url("item_trash", w.org, w.item))
    client.post(vault_url("item_delete", w.org, w.item), {"confirm": "1"})
    item_events = Event.objects.filter(type__startswith="item.", org=w.org)
    expected = {
        EventType.ITEM_CREATED,
        EventType.ITEM_UPDATED,
        EventType.ITEM_VIEWED,
        EventType.ITEM_PASSWORD_REVEALED,
        EventType.ITEM_HIDDEN_FIELD_REVEALED,
        EventType.ITEM_CARD_CODE_REVEALED,
        EventType.ITEM_TOTP_REVEALED,
        EventType.ITEM_PASSWORD_COPIED,
        EventType.ITEM_MOVED,
        EventType.ITEM_TRASHED,
        EventType.ITEM_RESTORED,
        EventType.ITEM_DELETED,
    }
    assert expected <= set(item_events.values_list("type", flat=True))
    for event in item_events:
        assert event.object_type == "item" and event.org_id == w.org.pk
        text = f"{event.details}"
        assert "Bank" not in text and "s3cret" not in text and "Card" not in text


def test_beat_task_purges_items_trashed_30_days_ago(vault_world):
    w = vault_world
    access = access_for(w.alice, w.org)
    old = make_item(w.alice, w.org, [w.collection])
    recent = make_item(w.alice, w.org, [w.collection])
    item_trash(access=access, item_id=old.pk)
    item_trash(access=access, item_id=recent.pk)
    Item.objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    assert purge_trash.delay().get() == 1
    assert (
        not Item.objects.filter(pk=old.pk).exists() and Item.objects.filter(pk=recent.pk).exists()
    )
    assert Event.objects.get(type=EventType.ITEM_DELETED).object_id == str(old.pk)


def test_beat_schedule_runs_the_purge():
    from django.conf import settings

    entries = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "vault.tasks.purge_trash" in entries
