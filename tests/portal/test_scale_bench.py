"""`make bench`'s scale figures: each of the issue's four pages timed on a small and a
large data set seeded in the same database, printed with both medians, their ratio,
both verdicts and both query counts."""

import re

import pytest

from clients.models import Organization
from portal import scale_bench
from portal.benchmarking import BenchContext
from providers.models import Provider
from vault.models import Item

FIGURES = [
    "provider dashboard",
    "dashboard sorted by members without two-step login",
    "vault list, member with a grant",
    "first search of a session, member",
]


# Transactional: the seed ends as the bench's does, with VACUUM, which no transaction
# may hold.
@pytest.mark.django_db(transaction=True)
def test_every_figure_is_printed_at_both_sizes_with_its_ratio(monkeypatch):
    monkeypatch.setattr(scale_bench, "SMALL", scale_bench.Size(clients=3, items=45))
    monkeypatch.setattr(scale_bench, "LARGE", scale_bench.Size(clients=6, items=50))
    monkeypatch.setattr(scale_bench, "MEMBERS_PER_CLIENT", 2)
    ctx = BenchContext(
        clients=0, members_per_client=0, items_per_client=0, vault_clients=0, repeat=2
    )

    scale_bench.seed(ctx)
    lines = [figure.line(reference_ms=1.0) for figure in scale_bench.figures(ctx)]

    small = Provider.objects.get(name="Scale MSP (small)")
    large = Provider.objects.get(name="Scale MSP (large)")
    assert Organization.objects.filter(provider=small).count() == 3
    assert Organization.objects.filter(provider=large).count() == 6
    assert Item.objects.filter(org__provider=small).count() == 45
    assert Item.objects.filter(org__provider=large).count() == 50
    assert len(lines) == len(FIGURES)
    for name, line in zip(FIGURES, lines, strict=True):
        match = re.fullmatch(
            rf"scale, {re.escape(name)}, 6 clients / 50 items, median: ([\d,.]+) ms, "
            r"at 3 / 45 ([\d,.]+) ms, ratio ([\d,.]+) \(ratio <= 1\.5: (ok|OVER)\), "
            r"queries (\d+) large / (\d+) small \((equal|DIFFER)\) "
            r"\[[\d,.]+x the reference\] \(target <= 150 ms: (ok|OVER TARGET)\)",
            line,
        )
        assert match, line
        large_ms, small_ms, ratio = (float(match[n].replace(",", "")) for n in (1, 2, 3))
        assert ratio == pytest.approx(large_ms / small_ms, abs=0.01)
        assert (match[4] == "ok") == (ratio <= 1.5)
        assert (match[8] == "ok") == (large_ms <= 150)
        # No page's query count grows with the data (pinned in the page tests too).
        assert match[5] == match[6], line
        assert match[7] == "equal"
