"""Scale data and figures for the vault (filled in by the vault issue)."""

from portal.benchmarking import BenchContext, Figure


def seed(ctx: BenchContext) -> None:
    return None


def figures(ctx: BenchContext) -> list[Figure]:
    return []
