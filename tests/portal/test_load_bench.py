"""`make bench`'s load mode starts the portal as production runs it, loads every page,
prints every figure, and stops its server cleanly (no gunicorn left behind)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    "bare /livez/ (the ceiling)",
    "login page",
    "item page",
    "vault list",
    "provider dashboard",
    "members page (5,000 members)",
]
# The floors, as shares of the ceiling: each of these lines ends with its verdict.
FLOORED = {"item page": 10, "vault list": 10, "provider dashboard": 5}


def _own_database(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/load_bench_test"))


@pytest.mark.redis
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres")
    or not os.environ.get("REDIS_URL"),
    reason="the load bench needs DATABASE_URL on PostgreSQL and REDIS_URL",
)
def test_load_mode_prints_every_figure_and_stops_its_server():
    env = {
        **os.environ,
        "DEBUG": "true",  # the bench process itself, as `make bench` runs it from .env
        "DJANGO_SETTINGS_MODULE": "portal.settings.base",
        "DATABASE_URL": _own_database(os.environ["DATABASE_URL"]),
        "BENCH_LOAD_SECONDS": "0.5",
        "VAULT_KEKS": "t1:dGVzdC1vbmx5LXZhdWx0LWtleS0wMDAwMDAwMDAwMDA=",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "bench", "--clients", "3", "--members", "2"]
        + ["--items", "20", "--repeat", "2", "--skip", "vault.imports.bench"]
        # Its two data sets have fixed sizes (3,000 clients): tests/portal/test_scale_bench.py.
        + ["--skip", "portal.scale_bench"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.strip().startswith("load, ")]
    for page in PAGES:
        [line] = [line for line in lines if line.strip().startswith(f"load, {page}:")]
        assert re.search(r"[\d,.]+ req/s, median [\d,.]+ ms, p99 [\d,.]+ ms, errors 0;", line)
        assert "% of the ceiling" in line
        if page in FLOORED:
            assert re.search(rf"\(floor >= {FLOORED[page]}%: (ok|BELOW FLOOR)\)$", line), line
    if not shutil.which("wrk"):  # the Python generator says what it costs
        assert "Note: The Python load generator spent" in done.stdout
    # The load bench's gunicorn is the only one started with its access log thrown away.
    pattern = "gunicorn portal.wsgi --config gunicorn.conf.py --access-logfile /dev/null"
    leftover = subprocess.run(["pgrep", "-f", pattern], capture_output=True)
    assert leftover.returncode == 1, "a gunicorn of the load bench is still running"
