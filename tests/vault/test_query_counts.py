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

# Pinned. All: session, user, org, membership, provider user; the member's grants (one UNION
# query); collections; then the page's own. Listing: count, page, collections, data keys, org
# key, favourites. Searching: names (or, cached, ids and revisions), data keys, org key, page,
# collections, favourites; with a cache missing some names, one more to fetch those.
# Change these only on purpose.
LIST_QUERIES = {"owner": 12, "member": 13}
SEARCH_QUERIES = {"owner": 12, "member": 13}


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


def test_a_search_after_changes_opens_only_what_changed_in_one_more_query(vault_world, login):
    w = vault_world
    client = login(w.alice)
    url = vault_url("item_list", w.org)
    seed_items(w.org, [w.collection], 5, name_prefix="item")
    queries(client, "post", url, {"q": "item"})
    warm = queries(client, "post", url, {"q": "item"})
    seed_items(w.org, [w.collection], 40, name_prefix="item")
    assert queries(client, "post", url, {"q": "item"}) == warm + 1
    assert queries(client, "post", url, {"q": "item"}) == warm
