"""Bench figure: the bench data set, dumped and restored as the README's "Backups" says,
verifies in `verify_vault` (target 60 s). On PostgreSQL only: it uses pg_dump and
pg_restore, and a database of its own beside the bench's, dropped afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from .benchmarking import BenchContext, Figure, database_url

VERIFY_TARGET_S = 60.0
ROOT = Path(settings.BASE_DIR)


def seed(ctx: BenchContext) -> None:
    """Nothing of its own: it restores what the other modules seeded."""


def figures(ctx: BenchContext) -> list[Figure]:
    pg_dump, pg_restore = (shutil.which(name) for name in ("pg_dump", "pg_restore"))
    if connection.vendor != "postgresql" or not (pg_dump and pg_restore):
        ctx.shared.setdefault("notes", []).append(
            "restore drill skipped: it needs PostgreSQL and its pg_dump and pg_restore"
        )
        return []
    source = database_url()
    restored_name = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:6]}"
    restored = source.rsplit("/", 1)[0] + f"/{restored_name}"
    with tempfile.TemporaryDirectory() as scratch, connection.cursor() as cursor:
        dump = Path(scratch) / "bench.dump"
        started = time.perf_counter()
        # The machine's own PostgreSQL tools on the bench's own database.
        subprocess.run([pg_dump, "--format=custom", f"--file={dump}", source], check=True)  # noqa: S603
        dumped_s = time.perf_counter() - started
        cursor.execute(f'CREATE DATABASE "{restored_name}"')
        try:
            started = time.perf_counter()
            subprocess.run(  # noqa: S603 (as above)
                [pg_restore, "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)],
                check=True,
            )
            restored_s = time.perf_counter() - started
            verified_s, checked = _verify(restored, _keyed_orgs(ctx))
        finally:
            cursor.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
    return [
        Figure(
            "restore drill: verify_vault on the restored bench data set",
            verified_s,
            "s",
            VERIFY_TARGET_S,
            f"{checked}; pg_dump {dumped_s:,.1f} s, pg_restore {restored_s:,.1f} s",
        )
    ]


def _keyed_orgs(ctx: BenchContext) -> list:
    """The orgs the bench gave vault keys (the thousands of others have none, by design)."""
    orgs = [org for org, _owner, _member in ctx.shared.get("vault", [])]
    if "import_org" in ctx.shared:
        orgs.append(ctx.shared["import_org"])
    return orgs


def _verify(database: str, orgs: list) -> tuple[float, str]:
    """`verify_vault --org` on each org, as separate commands; total seconds and counts."""
    total_s, items = 0.0, 0
    for org in orgs:
        started = time.perf_counter()
        result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, "manage.py", "verify_vault", "--org", str(org.pk)],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database},
            capture_output=True,
            text=True,
        )
        total_s += time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(
                f"verify_vault failed on the restored copy:\n{result.stderr[-2000:]}"
            )
        items += int(result.stdout.split(" data keys, ")[1].split(" items")[0].replace(",", ""))
    return total_s, f"{len(orgs)} orgs with keys, {items:,} items, every value opened"
