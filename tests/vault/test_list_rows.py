"""The list's rows as the selector makes them (prepared queries, no prefetch): each row's
collections, favourite, level, address and time, and pages past the prepared ones."""

from __future__ import annotations

import dataclasses
import re

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import AccessLevel, Membership
from tests import factories
from vault import selectors
from vault.bench import seed_items
from vault.crypto import KeyChain
from vault.models import Favorite

from .conftest import access_for, login_content, make_item
from .helpers import vault_url

pytestmark = pytest.mark.django_db


def rows_for(user, org, **filters) -> list[selectors.ItemRow]:
    access = access_for(user, org)
    return selectors.item_list_page(
        access=access,
        item_filter=selectors.ItemFilter(**filters),
        page_params={},
        keychain=KeyChain(org.pk),
        collections=selectors.visible_collections(access),
    ).rows


def grant(w, user, collection, level=AccessLevel.VIEW) -> None:
    membership = Membership.objects.get(org=w.org, user=user)
    factories.CollectionMemberGrantFactory(
        collection=collection, membership=membership, level=level
    )


def test_a_row_names_the_collections_the_actor_sees_in_name_order(vault_world):
    w = vault_world
    board = factories.CollectionFactory(org=w.org, name="Board")
    zoo = factories.CollectionFactory(org=w.org, name="Zoo")
    grant(w, w.bob, zoo, AccessLevel.EDIT)
    item = make_item(w.alice, w.org, [zoo, w.collection, board], login_content("Three"))
    Favorite.objects.create(user=w.bob, item=item)

    (alice_row,) = [r for r in rows_for(w.alice, w.org) if r.item.pk == item.pk]
    assert [c.name for c in alice_row.collections] == ["Board", "Shared", "Zoo"]
    assert alice_row.level == AccessLevel.MANAGE and not alice_row.favorite

    (bob_row,) = [r for r in rows_for(w.bob, w.org) if r.item.pk == item.pk]
    assert [c.name for c in bob_row.collections] == ["Shared", "Zoo"]  # not "Board"
    assert bob_row.level == AccessLevel.EDIT and bob_row.favorite
    assert bob_row.name == "Three"


def test_a_row_carries_its_address_and_its_time_as_the_template_showed_them(vault_world):
    w = vault_world
    with timezone.override("Asia/Kolkata"):  # +05:30: a zone that moves the minutes
        (row,) = rows_for(w.alice, w.org)
        expected = date_filter(timezone.localtime(row.item.updated_at), "Y-m-d H:i")
    assert row.url == vault_url("item_detail", w.org, w.item)
    assert row.updated == expected
    assert row.updated != f"{row.item.updated_at:%Y-%m-%d %H:%M}"  # not in UTC


def test_a_member_of_three_collections_sees_their_items_and_their_count(vault_world, login):
    w = vault_world
    extra = [factories.CollectionFactory(org=w.org, name=f"Team {n}") for n in range(3)]
    for collection in extra[:2]:
        grant(w, w.bob, collection)
    mine = make_item(w.alice, w.org, extra[:2], login_content("In both of mine"))
    make_item(w.alice, w.org, extra[1:], login_content("In one of mine"))
    make_item(w.alice, w.org, extra[2:], login_content("Not mine"))

    names = {row.name for row in rows_for(w.bob, w.org)}
    assert names == {"Bank login", "In both of mine", "In one of mine"}
    page = login(w.bob).get(vault_url("item_list", w.org))
    assert b"Not mine" not in page.content
    assert page.content.count(f'href="{vault_url("item_detail", w.org, mine)}"'.encode()) == 1
    assert {row.name for row in rows_for(w.bob, w.org, collection_id=extra[1].pk)} == {
        "In both of mine",
        "In one of mine",
    }


def _page(client, url: str) -> str:
    html = client.get(url).content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


@pytest.mark.parametrize("query", ["?page=2", "?page=2&type=login", "?page=3"])
def test_pages_past_the_prepared_ones_show_the_same_rows(vault_world, login, monkeypatch, query):
    w = vault_world
    seed_items(w.org, [w.collection], 40)
    client = login(w.bob)
    url = vault_url("item_list", w.org) + query
    prepared = _page(client, url)
    monkeypatch.setattr(selectors, "_PREPARED_PAGES", 1)  # page 2 on: the queryset itself
    assert _page(client, url) == prepared
    assert prepared.count("<tr>") == 1 + 16  # the head, and the last 16 of 41 items


def test_an_empty_list_reads_no_page(vault_world, login):
    w = vault_world
    client = login(w.alice)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(vault_url("item_list", w.org) + "?trash=1")
    assert b"The trash is empty" in page.content
    sql = [query["sql"] for query in captured.captured_queries]
    assert any("COUNT(*)" in text for text in sql)
    assert not any('ORDER BY "vault_item"."updated_at"' in text for text in sql)


HOSTILE = '<img src=x onerror=alert(1)> & "Bank"'
HOSTILE_ESCAPED = "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Bank&quot;"


@pytest.mark.parametrize("searched", [False, True], ids=["list", "search"])
def test_row_markup_escapes_item_and_collection_names(vault_world, login, searched):
    """vault/list_rows.py writes the rows in Python: names are escaped as templates do."""
    w = vault_world
    hostile_collection = factories.CollectionFactory(org=w.org, name="<b>Ops</b>")
    item = make_item(
        w.alice, w.org, [w.collection, hostile_collection], login_content(HOSTILE), reprompt=True
    )
    Favorite.objects.create(user=w.alice, item=item)
    client = login(w.alice)
    if searched:
        response = client.post(vault_url("item_list", w.org), {"q": "onerror"})
    else:
        response = client.get(vault_url("item_list", w.org))
    content = response.content.decode()

    assert HOSTILE not in content and "<b>Ops</b>" not in content
    row = next(r for r in response.context["rows_html"] if str(item.pk) in r)
    assert row == (
        "<tr>"
        '<td><span class="star" title="Favourite">★</span> '
        f'<a href="{vault_url("item_detail", w.org, item)}">{HOSTILE_ESCAPED}</a>'
        ' <span class="badge">re-prompt</span></td>'
        "<td>Login</td>"
        '<td><span class="badge">&lt;b&gt;Ops&lt;/b&gt;</span> '
        '<span class="badge">Shared</span> </td>'
        f"<td>{date_filter(timezone.localtime(item.updated_at), 'Y-m-d H:i')}</td>"
        "</tr>"
    )
    assert row in content


def test_an_unreadable_row_names_the_item_by_its_id(vault_world):
    from vault.list_rows import item_rows_html

    w = vault_world
    (row,) = [r for r in rows_for(w.alice, w.org) if r.item.pk == w.item.pk]
    unreadable = dataclasses.replace(row, name=None, favorite=False)
    (html,) = item_rows_html([unreadable])
    assert f"<em>Unreadable item {w.item.pk}</em></a></td>" in html
    assert "star" not in html
