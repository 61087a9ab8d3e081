"""Scale data and figures for the vault: the list page of an org with many items."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Sequence
from typing import Any

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
from .models import Item, NameIndexSegment, OrgKey
from .name_index import names_record
from .tallies import tally_items_added

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
    """Bulk-create `count` real, encrypted items under the org's members' data key.

    Their names go to the name index as the services' would, a segment per batch.
    """
    data_key_row, data_key = KeyChain(org.pk).members_data_key()
    through = Item.collections.through
    now = timezone.now()
    for start in range(0, count, _BATCH):
        items, names = [], []
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
            names.append((item_id, sealed.name_ciphertext, content.name))
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
        names_record(org_id=org.pk, data_key_row=data_key_row, data_key=data_key, entries=names)
        through.objects.bulk_create(
            through(item_id=item.pk, collection_id=collection.pk)
            for item in items
            for collection in collections
        )
        tally_items_added(
            org_id=org.pk,
            per_collection={collection.pk: len(items) for collection in collections},
            total=len(items),
        )


def seed(ctx: BenchContext) -> None:
    vault_orgs = ctx.shared["orgs"][: ctx.vault_clients]
    people = []
    for n, org in enumerate(vault_orgs):
        owner, member = seed_vault_client(
            org,
            ctx.items_per_client,
            owner_email=f"vault-owner-{n}@bench.test",
            member_email=f"vault-member-{n}@bench.test",
        )
        people.append((org, owner, member))
    ctx.shared["vault"] = people
    analyze_vault_tables()


def seed_vault_client(
    org: Organization, item_count: int, *, owner_email: str, member_email: str
) -> tuple[Any, Any]:
    """The org's keys (unless it has them), a collection of `item_count` items, an owner
    who manages it and a member with a view grant on it: returns (owner, member)."""
    users = get_user_model().objects
    if not OrgKey.objects.filter(org=org).exists():
        org_keys_create(org=org)
    collection = Collection.objects.create(org=org, name="Bench items")
    owner = users.create_user(owner_email, "bench-password-123")
    member = users.create_user(member_email, "bench-password-123")
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
    seed_items(org, [collection], item_count)
    return owner, member


def analyze_vault_tables() -> None:
    if connection.vendor == "postgresql":
        # What autovacuum does within a minute of a bulk load: without statistics the
        # planner takes 30,000 fresh rows for one and picks its plans accordingly.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE vault_item, vault_item_collections, vault_itemtally")


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
        searched = _time_search(browser, url, "item 00042", repeat=ctx.repeat)
        cold = _time_search(browser, url, "item 00042", repeat=ctx.repeat, cold=user)
        broad = _time_search(browser, url, "bench", repeat=ctx.repeat)
        rebuilt = _time_search(
            browser, url, "item 00042", repeat=min(ctx.repeat, 5), drop_index_of=org
        )
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
            # Each run is a new session's first request, Django's cache emptied before it.
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
            # Once per org: its first search after the index was lost (or predates it).
            Figure(
                f"{label}, {who}, search rebuilding the org's name index, median",
                rebuilt.median_ms,
                "ms",
            ),
        ]
    return results


def _time_search(
    browser: Client,
    url: str,
    term: str,
    *,
    repeat: int,
    cold=None,
    drop_index_of: Organization | None = None,
) -> PageTiming:
    """As `time_page`, for the search form (a POST, so search text stays out of URLs).

    `cold` (a user): each run is the first request of a new session of that user, with
    Django's cache emptied. `drop_index_of`: the org's name index is deleted before each
    run, so the search rebuilds it from every item.
    """
    data = {"q": term}
    response = browser.post(url, data)
    if response.status_code != 200:
        raise RuntimeError(f"POST {url} answered {response.status_code}")
    timings = []
    for _ in range(repeat):
        if cold is not None:
            cache.clear()
            browser = Client()
            browser.force_login(cold, backend="portal.auth_backend.AccountBackend")
        if drop_index_of is not None:
            NameIndexSegment.objects.filter(org=drop_index_of).delete()
        started = time.perf_counter()
        browser.post(url, data)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        browser.post(url, data)
    return PageTiming(median_ms=statistics.median(timings), queries=len(queries.captured_queries))
