"""The sweep and a live worker, with real row locks (Postgres): a job whose worker is still
in its transaction holds its row lock, so the sweep passes it over even when the heartbeat
looks old; a job whose worker died (no lock, old heartbeat) is failed.

SQLite ignores SELECT ... FOR UPDATE, which would make this test prove nothing.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache
from django.db import connection, connections

from portal.access import resolve
from tests.vault.conftest import give_keys
from vault.imports import services
from vault.imports.services import import_job_create, import_job_run, import_jobs_fail_stale
from vault.models import ImportJob, ImportStatus, Item

from .conftest import upload
from .test_pipeline import logins

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres row locks (set DATABASE_URL=postgres://...)",
    ),
]


def test_the_sweep_passes_over_a_job_its_worker_still_holds(world, monkeypatch):
    give_keys(world.org)
    job = import_job_create(
        actor=resolve(world.alice, world.org),
        org=world.org,
        upload=upload(logins(3)),
        format_key="",
        collection=None,
        enqueue=False,
    )
    writing = threading.Event()
    swept = threading.Event()
    add = services._BatchWriter.add

    def add_then_wait(writer, parsed):
        writing.set()
        assert swept.wait(timeout=20)
        return add(writer, parsed)

    monkeypatch.setattr(services._BatchWriter, "add", add_then_wait)
    results = {}

    def work():
        try:
            results["job"] = import_job_run(job_id=job.pk)
        finally:
            connections.close_all()

    worker = threading.Thread(target=work)
    worker.start()
    assert writing.wait(timeout=20)
    cache.set(services.progress_key(job.pk), {"heartbeat": time.time() - 3600})
    try:
        assert import_jobs_fail_stale() == 0
        assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.RUNNING
    finally:
        swept.set()
        worker.join(timeout=30)
    assert results["job"].status == ImportStatus.SUCCEEDED
    assert Item.objects.filter(org=world.org).count() == 3
