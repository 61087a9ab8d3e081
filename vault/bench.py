"""Scale data and figures for the vault: the list page of an org with many items."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import (
    AccessLevel,
    Collection,
    CollectionMemberGrant,
    MemberRole,
    Membership,
    MemberStatus,
    Organization,
)
from portal.benchmarking import BenchContext, Figure, PageTiming, time_page

from .content import ItemContent, ItemType
from .crypto import KeyChain, seal_item
from .key_management import org_keys_create
from .models import Item, OrgKey

LIST_TARGET_MS = 150
_BATCH = 2000


def seed_items(
    org: Organization,
    collections: Sequence[Collection],
    count: int,
    *,
    item_type: str = ItemType.LOGIN,
    name_prefix: str = "Bench item",
) -> None:
    """Bulk-create `count` real, encrypted items under the org's members' data key."""
    data_key_row, data_key = KeyChain(org.pk).members_data_key()
    through = Item.collections.through
    now = timezone.now()
    for start in range(0, count, _BATCH):
        items = []
        for n in range(start, min(start + _BATCH, count)):
            item_id = uuid.uuid4()
            content = ItemContent(
                type=item_type,
                name=f"{name_prefix} {n:05d}",
                fields={"username": f"user{n}", "password": f"pw-{n}"}
                if item_type == "login"
                else {},
            )
            sealed = seal_item(content, org_id=org.pk, item_id=item_id, data_key=data_key)
            items.append(
                Item(
                    id=item_id,
                    org=org,
                    type=item_type,
                    data_key=data_key_row,
                    name_ciphertext=sealed.name_ciphertext,
                    data_ciphertext=sealed.data_ciphertext,
                    created_at=now,
                    updated_at=now,
                )
            )
        Item.objects.bulk_create(items)
        through.objects.bulk_create(
            through(item_id=item.pk, collection_id=collection.pk)
            for item in items
            for collection in collections
        )


def seed(ctx: BenchContext) -> None:
    users = get_user_model().objects
    vault_orgs = ctx.shared["orgs"][: ctx.vault_clients]
    people = []
    for n, org in enumerate(vault_orgs):
        if not OrgKey.objects.filter(org=org).exists():
            org_keys_create(org=org)
        collection = Collection.objects.create(org=org, name="Bench items")
        owner = users.create_user(f"vault-owner-{n}@bench.test", "bench-password-123")
        member = users.create_user(f"vault-member-{n}@bench.test", "bench-password-123")
        for user, role, level in (
            (owner, MemberRole.OWNER, AccessLevel.MANAGE),
            (member, MemberRole.USER, AccessLevel.VIEW),
        ):
            membership = Membership.objects.create(
                org=org, user=user, email=user.email, role=role, status=MemberStatus.CONFIRMED
            )
            CollectionMemberGrant.objects.create(
                collection=collection, membership=membership, level=level
            )
        seed_items(org, [collection], ctx.items_per_client)
        people.append((org, owner, member))
    ctx.shared["vault"] = people


def figures(ctx: BenchContext) -> list[Figure]:
    if not ctx.shared.get("vault"):
        return []
    org, owner, member = ctx.shared["vault"][0]
    url = reverse("vault_item_list", kwargs={"org_id": org.pk})
    label = f"vault list ({ctx.items_per_client:,} items)"
    results = []
    for who, user in (("owner", owner), ("member with a grant", member)):
        browser = ctx.logged_in_client(user)
        listed = time_page(browser, url, repeat=ctx.repeat)
        searched = _time_search(browser, url, "item 0042", repeat=ctx.repeat)
        cold = _time_search(browser, url, "item 0042", repeat=ctx.repeat, cold=True)
        broad = _time_search(browser, url, "bench", repeat=ctx.repeat)
        results += [
            Figure(f"{label}, {who}, median", listed.median_ms, "ms", LIST_TARGET_MS),
            Figure(f"{label}, {who}, queries per page", listed.queries, "queries"),
            Figure(
                f"{label}, {who}, searched by name, median",
                searched.median_ms,
                "ms",
                LIST_TARGET_MS,
            ),
            Figure(f"{label}, {who}, searched by name, queries", searched.queries, "queries"),
            # The name cache is emptied before each run, so every one of the names opens.
            Figure(
                f"{label}, {who}, first search of a session, median",
                cold.median_ms,
                "ms",
                LIST_TARGET_MS,
            ),
            Figure(
                f"{label}, {who}, search matching every item, median",
                broad.median_ms,
                "ms",
                LIST_TARGET_MS,
            ),
        ]
    return results


def _time_search(
    browser: Client, url: str, term: str, *, repeat: int, cold: bool = False
) -> PageTiming:
    """As `time_page`, for the search form (a POST, so search text stays out of URLs).

    `cold` empties the search-name cache before each run: every name is opened again.
    """
    data = {"q": term}
    response = browser.post(url, data)
    if response.status_code != 200:
        raise RuntimeError(f"POST {url} answered {response.status_code}")
    timings = []
    for _ in range(repeat):
        if cold:
            cache.clear()
        started = time.perf_counter()
        browser.post(url, data)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        browser.post(url, data)
    return PageTiming(median_ms=statistics.median(timings), queries=len(queries.captured_queries))
