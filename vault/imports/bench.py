"""Bench figures for imports: 100,000 items from a Bitwarden JSON file, upload to done, and
the peak memory of the process that runs the job.

With Postgres and Redis the job runs as production runs it: the upload is stored here, the
task goes through Redis, and a real Celery worker (a process of its own, solo pool, so the
task runs in the process whose peak memory is read) imports it; the time runs from the
upload to the job's row saying it is done. With Postgres alone, `manage.py import_vault` in a
process of its own (the same pipeline). SQLite's benchmark database lives in memory, out of
a child's reach: there the job runs in this process and only the time is reported.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import connection

from clients.models import Organization
from portal.benchmarking import BenchContext, Figure, database_url
from vault.key_management import org_keys_create

from ..models import ImportStatus
from .services import import_job_create, import_job_run

ITEMS = 100_000
TIME_TARGET_S = 20
MEMORY_TARGET_MB = 300


def seed(ctx: BenchContext) -> None:
    org = Organization.objects.create(name="Import bench")
    org_keys_create(org=org)
    ctx.shared["import_org"] = org


def figures(ctx: BenchContext) -> list[Figure]:
    org = ctx.shared["import_org"]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bitwarden_export.json"
        write_export(path, ITEMS)
        label = f"import of {ITEMS:,} items (Bitwarden JSON), upload to done"
        # On Postgres the time includes the child's start-up (Django, about a second).
        if connection.vendor == "postgresql" and settings.REDIS_URL:
            seconds, peak_mb = _through_a_worker(org, path)
            return [
                Figure(f"{label}, through a Celery worker on Redis", seconds, "s", TIME_TARGET_S),
                Figure("import, peak memory of the worker", peak_mb, "MB", MEMORY_TARGET_MB),
            ]
        if connection.vendor == "postgresql":
            seconds, peak_mb = _in_a_process(org, path)
            return [
                Figure(f"{label} (import_vault; no Redis)", seconds, "s", TIME_TARGET_S),
                Figure(
                    "import, peak memory of the importing process", peak_mb, "MB", MEMORY_TARGET_MB
                ),
            ]
        return [
            Figure(
                f"{label} (in-process; memory: run on Postgres)",
                _here(org, path),
                "s",
                TIME_TARGET_S,
            )
        ]


def write_export(path: Path, count: int) -> None:
    """An organization export of `count` logins in 20 collections, written as it goes."""
    with path.open("w") as out:
        collections = [{"id": f"c{n}", "name": f"Team {n}"} for n in range(20)]
        out.write('{"encrypted": false, "collections": ' + json.dumps(collections) + ', "items": [')
        for n in range(count):
            item = {
                "type": 1,
                "name": f"Site {n}",
                "notes": "bench notes",
                "favorite": False,
                "fields": [{"name": "PIN", "value": f"{n:04d}", "type": 1}],
                "login": {
                    "uris": [{"match": None, "uri": f"https://site{n}.example/login"}],
                    "username": f"user{n}@example.test",
                    "password": f"pw-{n}-bench-password",
                },
                "collectionIds": [f"c{n % 20}"],
            }
            out.write(("," if n else "") + json.dumps(item))
        out.write("]}")


def _through_a_worker(org: Organization, path: Path) -> tuple[float, float]:
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL}
    worker = subprocess.Popen(  # noqa: S603 (our own interpreter and the project's app)
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo"]
        + ["--concurrency", "1", "--loglevel", "WARNING", "--without-heartbeat"]
        + ["--without-gossip", "--without-mingle"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_ready(env)
        started = time.perf_counter()
        with path.open("rb") as handle:
            job = import_job_create(
                actor=None, org=org, upload=File(handle), format_key="", collection=None
            )
        while job.status not in (ImportStatus.SUCCEEDED, ImportStatus.FAILED):
            time.sleep(0.1)
            job.refresh_from_db(fields=["status"])
        seconds = time.perf_counter() - started
        if job.status != ImportStatus.SUCCEEDED:
            raise RuntimeError(f"the bench import failed: {job.failure_message}")
        return seconds, _peak_mb(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _wait_until_ready(env: dict) -> None:
    ping = [sys.executable, "-m", "celery", "-A", "portal", "inspect", "ping", "--timeout", "1"]
    for _attempt in range(60):
        done = subprocess.run(ping, env=env, cwd=settings.BASE_DIR, capture_output=True)  # noqa: S603
        if done.returncode == 0:
            return
    raise RuntimeError("the bench's Celery worker did not start")


def _peak_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), read while it still runs."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM for the worker")


def _in_a_process(org: Organization, path: Path) -> tuple[float, float]:
    env = {**os.environ, "DATABASE_URL": database_url()}
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "import_vault"]
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [*command, "--org", str(org.pk), str(path)], env=env, check=True, capture_output=True
    )
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: kilobytes
    return seconds, peak_kb / 1024


def _here(org: Organization, path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as handle:
        job = import_job_create(
            actor=None, org=org, upload=File(handle), format_key="", collection=None, enqueue=False
        )
    import_job_run(job_id=job.pk)
    return time.perf_counter() - started
