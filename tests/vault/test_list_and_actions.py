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
from vault.services import ItemGone, VaultError, item_create, item_move, item_trash
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


def test_every_item_action_writes_its_own_event_naming_the_item_by_id(vault_world, login):
    from .test_item_forms import edit_post

    w = vault_world
    client = login(w.alice)
    target = factories.CollectionFactory(org=w.org, name="T")
    card = make_item(
        w.alice,
        w.org,
        [w.collection],
        ItemContent(type=ItemType.CARD, name="Card", fields={"code": "c0de-1"}),
    )
    item = str(w.item.pk)
    E = EventType
    steps = [
        (lambda: client.get(vault_url("item_detail", w.org, card)), [(E.ITEM_VIEWED, card.pk)]),
        (
            lambda: client.post(vault_url("item_detail", w.org, card), {"field": "code"}),
            [(E.ITEM_CARD_CODE_REVEALED, card.pk)],
        ),
        (
            lambda: client.post(vault_url("item_detail", w.org, w.item), {"field": "password"}),
            # The page the reveal answers also shows the current TOTP code: not an event.
            [(E.ITEM_PASSWORD_REVEALED, item)],
        ),
        (
            lambda: client.post(vault_url("item_detail", w.org, w.item), {"field": "custom:c1"}),
            [(E.ITEM_HIDDEN_FIELD_REVEALED, item)],
        ),
        (
            lambda: client.post(vault_url("item_copy", w.org, w.item)),
            [(E.ITEM_PASSWORD_COPIED, item)],
        ),
        (
            # The countdown's next code: part of the view, so no event.
            lambda: client.post(vault_url("item_totp", w.org, w.item)),
            [],
        ),
        (
            lambda: client.post(vault_url("item_detail", w.org, w.item), {"field": "totp"}),
            [(E.ITEM_TOTP_REVEALED, item)],
        ),
        (
            lambda: client.post(
                vault_url("item_move", w.org, w.item),
                {"collections": [str(target.pk)], "revision": 1},
            ),
            [(E.ITEM_MOVED, item)],
        ),
        (
            lambda: client.post(
                vault_url("item_edit", w.org, w.item), edit_post(w, w.item, name="E")
            ),
            [(E.ITEM_UPDATED, item)],
        ),
        (lambda: client.post(vault_url("item_trash", w.org, w.item)), [(E.ITEM_TRASHED, item)]),
        (
            lambda: client.post(vault_url("item_restore", w.org, w.item)),
            [(E.ITEM_RESTORED, item)],
        ),
        (lambda: client.post(vault_url("item_trash", w.org, w.item)), [(E.ITEM_TRASHED, item)]),
        (
            lambda: client.post(vault_url("item_delete", w.org, w.item), {"confirm": "1"}),
            [(E.ITEM_DELETED, item)],
        ),
    ]
    seen = Event.objects.count()
    for action, expected in steps:
        assert action().status_code in (200, 302)
        new = list(Event.objects.order_by("pk")[seen:])
        seen += len(new)
        assert [(e.type, e.object_id) for e in new] == [(t, str(pk)) for t, pk in expected]
        for event in new:
            assert (event.object_type, event.org_id, event.actor) == ("item", w.org.pk, w.alice)
            text = f"{event.details}"
            assert "Bank" not in text and "s3cret" not in text and "Card" not in text
    assert Event.objects.filter(type=E.ITEM_CREATED, object_id=str(card.pk)).exists()


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


def test_services_refuse_another_orgs_collection_whatever_the_form_allowed(vault_world):
    """The forms offer this org's collections only; the services check again on their own."""
    w = vault_world
    access = access_for(w.alice, w.org)
    with pytest.raises(VaultError, match="does not belong to this organization"):
        item_create(
            access=access,
            content=login_content("Elsewhere"),
            collection_ids=[w.other_collection.pk],
        )
    with pytest.raises(VaultError, match="does not belong to this organization"):
        item_move(
            access=access,
            item_id=w.item.pk,
            revision=w.item.revision,
            collection_ids=[w.collection.pk, w.other_collection.pk],
        )
    assert Item.objects.filter(org=w.org).count() == 1
    assert list(Item.objects.get(pk=w.item.pk).collections.all()) == [w.collection]
    assert list(w.other_collection.items.all()) == [w.other_item]
    assert not Event.objects.filter(type__in=[EventType.ITEM_MOVED]).exists()


def test_services_refuse_items_of_another_org_by_id(vault_world):
    w = vault_world
    access = access_for(w.alice, w.org)
    theirs = w.other_item.pk
    for attempt in (
        lambda: item_trash(access=access, item_id=theirs),
        lambda: item_move(
            access=access, item_id=theirs, revision=1, collection_ids=[w.collection.pk]
        ),
    ):
        with pytest.raises(ItemGone):
            attempt()
    assert not Item.objects.get(pk=theirs).in_trash
    assert list(Item.objects.get(pk=theirs).collections.all()) == [w.other_collection]


def test_a_search_in_the_url_is_ignored(vault_world, login):
    """Search text travels by POST only, so item names stay out of URLs and access logs."""
    w = vault_world
    make_item(w.alice, w.org, [w.collection], login_content("Other one"))
    page = login(w.alice).get(vault_url("item_list", w.org), {"q": "bank"})
    assert page.status_code == 200
    assert b"Bank login" in page.content and b"Other one" in page.content  # not filtered
    assert b'value="bank"' not in page.content


def test_collections_page_of_a_trashed_item_says_to_restore_it(vault_world, login):
    w = vault_world
    item_trash(access=access_for(w.alice, w.org), item_id=w.item.pk)
    client = login(w.alice)
    response = client.get(vault_url("item_move", w.org, w.item))
    assert response.status_code == 302
    assert response.url == vault_url("item_detail", w.org, w.item)
    page = client.get(response.url)
    assert b"Restore the item from the trash to change its collections." in page.content
