"""The scale figures of `make bench`: each page timed at two data sizes in the same run.

Two providers of their own are seeded beside the others' data: a small one and a large
one, each with one client holding a vault of items. Each figure is then timed by
alternating one request on the small data set with one on the large, so that the
machine's drift during the run weighs on both alike, and printed as the large median
with the small one, their ratio and the query counts of both (which must be equal).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from providers.bench import check_figures_and_analyze, seed_provider
from vault.bench import analyze_vault_tables, seed_vault_client

from .benchmarking import BenchContext, Figure


@dataclass(frozen=True)
class Size:
    clients: int
    items: int  # in the one vault client


# The two sizes (the must-reach compares them); constants rather than options:
# the test of this module shrinks them.
SMALL = Size(clients=100, items=1_000)
LARGE = Size(clients=3_000, items=30_000)
MEMBERS_PER_CLIENT = 20
RATIO_TARGET = 1.5
TARGET_MS = 150
# One item's name ("Bench item 00042") at both sizes: the same result page to draw, so
# the ratio shows what finding it costs among more names.
SEARCH_TERM = "item 00042"

# A request to time: called untimed to set up (a new session, say), it returns the call
# that is timed.
Prepare = Callable[[], Callable[[], HttpResponse]]


def seed(ctx: BenchContext) -> None:
    data_sets = {}
    for label, size in (("small", SMALL), ("large", LARGE)):
        provider, admin, orgs = seed_provider(
            name=f"Scale MSP ({label})",
            clients=size.clients,
            members_per_client=MEMBERS_PER_CLIENT,
            email_prefix=f"scale-{label}-",
        )
        _owner, member = seed_vault_client(
            orgs[0],
            size.items,
            owner_email=f"scale-{label}-vault-owner@bench.test",
            member_email=f"scale-{label}-vault-member@bench.test",
        )
        data_sets[label] = {
            "provider": provider,
            "admin": admin,
            "vault_org": orgs[0],
            "member": member,
        }
    check_figures_and_analyze()
    analyze_vault_tables()
    ctx.shared["scale"] = data_sets


def figures(ctx: BenchContext) -> list[Figure]:
    small, large = ctx.shared["scale"]["small"], ctx.shared["scale"]["large"]
    # Each page with a text it must show at both sizes: no figure times an empty page.
    pages: dict[str, tuple[Callable[[dict[str, Any]], Prepare], str]] = {
        "provider dashboard": (
            lambda data: _get(ctx, data["admin"], _dashboard(data)),
            "Client 00000",
        ),
        "dashboard sorted by members without two-step login": (
            lambda data: _get(ctx, data["admin"], _dashboard(data) + "?sort=-without_two_step"),
            "Client 0",
        ),
        "vault list, member with a grant": (
            lambda data: _get(ctx, data["member"], _vault_list(data)),
            "Bench item 0",
        ),
        # Each run is a new session's first request, Django's cache emptied before it.
        "first search of a session, member": (
            lambda data: _first_search(data["member"], _vault_list(data)),
            "Bench item 00042",
        ),
    }
    sizes = f"{LARGE.clients:,} clients / {LARGE.items:,} items"
    small_sizes = f"{SMALL.clients:,} / {SMALL.items:,}"
    results = []
    for name, (request, shown) in pages.items():
        small_ms, large_ms, small_queries, large_queries = _alternate(
            request(small), request(large), repeat=ctx.repeat, shown=shown
        )
        ratio = large_ms / small_ms
        ratio_verdict = "ok" if ratio <= RATIO_TARGET else "OVER"
        queries_verdict = "equal" if small_queries == large_queries else "DIFFER"
        results.append(
            Figure(
                f"scale, {name}, {sizes}, median",
                large_ms,
                "ms",
                TARGET_MS,
                detail=(
                    f"at {small_sizes} {small_ms:,.1f} ms, ratio {ratio:,.2f} "
                    f"(ratio <= {RATIO_TARGET}: {ratio_verdict}), queries {large_queries} "
                    f"large / {small_queries} small ({queries_verdict})"
                ),
            )
        )
    return results


def _dashboard(data: dict[str, Any]) -> str:
    return reverse("provider_dashboard", args=[data["provider"].pk])


def _vault_list(data: dict[str, Any]) -> str:
    return reverse("vault_item_list", kwargs={"org_id": data["vault_org"].pk})


def _get(ctx: BenchContext, user, url: str) -> Prepare:
    browser = ctx.logged_in_client(user)
    return lambda: lambda: browser.get(url)


def _first_search(user, url: str) -> Prepare:
    def prepare() -> Callable[[], HttpResponse]:
        cache.clear()
        browser = Client()
        browser.force_login(user, backend="portal.auth_backend.AccountBackend")
        return lambda: browser.post(url, {"q": SEARCH_TERM})

    return prepare


def _alternate(
    small: Prepare, large: Prepare, *, repeat: int, shown: str
) -> tuple[float, float, int, int]:
    """Median milliseconds of the small and the large request over `repeat` runs each,
    after one warm-up each (which must show `shown`), taken in turns (which goes first
    alternates too), and the query count of each: (small ms, large ms, small queries,
    large queries)."""
    timings: dict[str, list[float]] = {"small": [], "large": []}
    sides = {"small": small, "large": large}
    for label, prepare in sides.items():
        response = prepare()()
        if response.status_code != 200 or shown not in response.content.decode():
            raise RuntimeError(
                f"{response.request['PATH_INFO']} ({label}) answered "
                f"{response.status_code} without {shown!r}"
            )
    for run in range(repeat):
        for label in ("small", "large") if run % 2 == 0 else ("large", "small"):
            timings[label].append(_timed(sides[label]))
    queries = {}
    for label, prepare in sides.items():
        request = prepare()
        with CaptureQueriesContext(connection) as captured:
            request()
        queries[label] = len(captured.captured_queries)
    return (
        statistics.median(timings["small"]),
        statistics.median(timings["large"]),
        queries["small"],
        queries["large"],
    )


def _timed(prepare: Prepare) -> float:
    request = prepare()
    started = time.perf_counter()
    response = request()
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{response.request['PATH_INFO']} answered {response.status_code}")
    return elapsed_ms
