"""The benchmark harness behind `manage.py bench` / `make bench`.

Each app that has figures to report provides `<app>/bench.py` with
`seed(ctx)` (bulk-creates its scale data) and `figures(ctx) -> list[Figure]`.
The harness runs them in `BENCH_MODULES` order inside a fresh test database.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

BENCH_MODULES = [
    "providers.bench",
    "clients.bench",
    "vault.bench",
    "vault.imports.bench",
    "policies.bench",
    "portal.scale_bench",  # two providers of its own, timed against each other
    "portal.load_bench",  # it loads the pages the others seeded
    "portal.restore_bench",  # last: dumps and restores everything seeded
]


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: float | None = None
    detail: str = ""

    def line(self, reference_ms: float | None = None) -> str:
        text = f"{self.name}: {self.value:,.1f} {self.unit}"
        if self.detail:
            text += f", {self.detail}"
        if self.unit == "ms" and reference_ms:
            # Timings drift with the machine's load; the ratio to a page measured in the
            # same run drifts much less, so it is the figure to compare between runs.
            text += f" [{self.value / reference_ms:,.1f}x the reference]"
        if self.target is not None:
            verdict = "ok" if self.value <= self.target else "OVER TARGET"
            text += f" (target <= {self.target:,.0f} {self.unit}: {verdict})"
        return text


@dataclass
class BenchContext:
    clients: int
    members_per_client: int
    items_per_client: int
    vault_clients: int
    repeat: int
    shared: dict[str, Any] = field(default_factory=dict)

    def logged_in_client(self, user) -> Client:
        browser = Client()
        browser.force_login(user, backend="portal.auth_backend.AccountBackend")
        return browser


REFERENCE_URL = "/healthz/"


def reference_timing(browser: Client, *, repeat: int) -> PageTiming:
    """The health endpoint (one `SELECT 1`, no session, no template) through the same
    client: the floor every page figure of this run is compared against."""
    return time_page(browser, REFERENCE_URL, repeat=repeat)


@dataclass
class PageTiming:
    median_ms: float
    queries: int


def time_page(browser: Client, url: str, *, repeat: int) -> PageTiming:
    """Median wall time of GET `url` over `repeat` runs after one warm-up, and its query count."""
    response = browser.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        browser.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        browser.get(url)
    return PageTiming(median_ms=statistics.median(timings), queries=len(queries.captured_queries))


def database_url() -> str:
    """The bench's own (fresh) database as a DATABASE_URL, for the processes it starts."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{quote(db['NAME'], safe='')}"
