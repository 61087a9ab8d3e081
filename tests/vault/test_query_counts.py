"""Vault pages answer in a number of queries that does not grow with the number of items."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vault.bench import seed_items
from vault.content import ItemType
from vault.models import Favorite

from .helpers import vault_url

pytestmark = pytest.mark.django_db

# Pinned. All: session, user, the org with the actor's ties (one query); the member's grants
# (one UNION query); collections; then the page's own. Listing: the tally (or, for a filter
# no tally holds, a count), page (with the favourites), its items' collections, data keys
# (with the org key each is sealed to). Searching: the name index's segments, data keys
# (with their org key), the matching items the member reaches, page (with the favourites),
# its items' collections. Change these only on purpose.
LIST_QUERIES = {"owner": 8, "member": 9}
SEARCH_QUERIES = {"owner": 9, "member": 10}


def queries(client, method: str, url: str, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {})
    assert response.status_code == 200
    return len(captured.captured_queries)


def counts(client, w) -> tuple[int, int, int]:
    """The list, a first search (every name opened) and the same again (names cached)."""
    url = vault_url("item_list", w.org)
    cache.clear()
    cold = queries(client, "post", url, {"q": "item"})
    warm = queries(client, "post", url, {"q": "item"})
    return queries(client, "get", url), cold, warm


@pytest.mark.parametrize(("who", "role"), [("alice", "owner"), ("bob", "member")])
def test_list_and_search_queries_do_not_grow_with_items(vault_world, login, who, role):
    w = vault_world
    client = login(getattr(w, who))
    seed_items(w.org, [w.collection], 3, name_prefix="item")
    small = counts(client, w)
    seed_items(w.org, [w.collection], 60, item_type=ItemType.SECURE_NOTE, name_prefix="item")
    Favorite.objects.bulk_create(
        Favorite(user=getattr(w, who), item=item) for item in w.org.items.all()[:10]
    )
    large = counts(client, w)
    assert small == large
    assert large == (LIST_QUERIES[role], SEARCH_QUERIES[role], SEARCH_QUERIES[role])


def test_item_page_queries_are_fixed(vault_world, login):
    w = vault_world
    client = login(w.alice)
    url = vault_url("item_detail", w.org, w.item)
    first = queries(client, "get", url)
    seed_items(w.org, [w.collection], 30)
    assert queries(client, "get", url) == first


def test_a_search_costs_the_same_queries_whatever_was_written_since(vault_world, login):
    w = vault_world
    client = login(w.alice)
    url = vault_url("item_list", w.org)
    seed_items(w.org, [w.collection], 5, name_prefix="item")
    queries(client, "post", url, {"q": "item"})
    before = queries(client, "post", url, {"q": "item"})
    for _ in range(3):  # three more segments in the name index
        seed_items(w.org, [w.collection], 40, name_prefix="item")
    assert queries(client, "post", url, {"q": "item"}) == before


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_filters_and_first_searches_do_not_grow_with_items(vault_world, login, who):
    """At two sizes: each filter of the list, and the first search of a new session."""
    w = vault_world
    user = getattr(w, who)
    url = vault_url("item_list", w.org)

    def measured():
        pages = [
            queries(login(user), "get", url + query)
            for query in (
                "",
                "?type=login",
                "?favorites=1",
                "?trash=1",
                f"?collection={w.collection.pk}",
            )
        ]
        cache.clear()
        fresh = login(user)  # a new session
        return pages, queries(fresh, "post", url, {"q": "item 1"})

    seed_items(w.org, [w.collection], 2, name_prefix="item")
    small = measured()
    seed_items(w.org, [w.collection], 70, name_prefix="item")
    seed_items(w.org, [w.collection], 70, item_type=ItemType.SECURE_NOTE, name_prefix="item")
    assert measured() == small
