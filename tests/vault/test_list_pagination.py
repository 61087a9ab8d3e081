"""The vault list's Next and Previous (portal/pagination.py): the list is prepared queries,
not a queryset, so it declares its order and builds its queryset for a page read from a
row only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.pagination import PAGE_SIZE, _keyset_order
from tests.paging import link, page_queries, row_ids, walk
from vault import selectors
from vault.bench import seed_items
from vault.models import Item

from .conftest import access_for

pytestmark = pytest.mark.django_db


def test_the_vault_list_reads_a_page_from_a_row(vault_world, login):
    """The vault list (prepared queries, not a queryset) declares its order."""
    w = vault_world
    seed_items(w.org, [w.collection], 2 * PAGE_SIZE + 5)
    Item.objects.filter(org=w.org).update(updated_at=timezone.now())  # ties, all of them
    url = reverse("vault_item_list", args=[w.org.pk])
    for user in (w.alice, w.bob):  # every item; those of bob's collections
        client = login(user)
        forward = walk(client, url, "next")
        numbered = [(n, row_ids(client.get(f"{url}?page={n}"))) for n, _rows in forward]
        assert forward == numbered and len(forward) == 3
        walked = [pk for _n, rows in forward for pk in rows]
        assert len(set(walked)) == len(walked)
        start = link(client.get(f"{url}?page=3"), "prev")
        assert start.startswith("?page=2&before=")
        assert walk(client, url, "prev", start=start) == numbered[1::-1]


def test_the_vault_list_page_from_a_row_costs_what_a_numbered_page_does(vault_world, login):
    w = vault_world
    seed_items(w.org, [w.collection], PAGE_SIZE + 5)
    url = reverse("vault_item_list", args=[w.org.pk])
    client = login(w.bob)
    next_query = link(client.get(url), "next")
    numbered, from_row = page_queries(client, f"{url}?page=2", url + next_query)
    assert len(from_row) == len(numbered)
    page_reads = [sql for sql in from_row if "LIMIT 26" in sql]
    assert len(page_reads) == 1 and "OFFSET" not in page_reads[0]


def test_the_vault_list_declares_the_order_its_queryset_has(vault_world):
    access = access_for(vault_world.bob, vault_world.org)
    listed = selectors._ListedItems(access, selectors.ItemFilter())
    assert _keyset_order(listed.in_order()) == selectors.LIST_ORDER
