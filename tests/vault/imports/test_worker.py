"""A provider's import through the real broker (Redis) and a real Celery worker.

The worker runs in a thread of this process (Celery's test worker), so patching the
unwrapping functions reaches it: the import must succeed without them ever being called.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from unittest import mock

import pytest

from portal.access import resolve
from portal.celery import app
from tests.portal.test_celery_worker import real_worker, redis_or_skip
from tests.vault.conftest import give_keys
from vault.imports.services import import_job_create
from vault.models import DataKeyPurpose, ImportJob, ImportStatus, ImportUploadChunk, Item

from .conftest import as_json, bitwarden_org_export, opened_items, upload

MARKER = "QZXVMARKER"


def marked_export() -> bytes:
    export = bitwarden_org_export()
    export["items"][0]["login"]["password"] = MARKER
    export["items"][0]["name"] = f"{MARKER} bank"
    return as_json(export)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_write_only(world):
    redis_or_skip()
    give_keys(world.org)
    queue = f"test-{uuid.uuid4().hex}"
    refuse = mock.Mock(side_effect=AssertionError("the org private key was unwrapped"))
    actor = resolve(world.provider_admin, world.org)
    with (
        mock.patch("vault.crypto.unwrap_org_private_key", refuse),
        mock.patch("vault.keys.unwrap_org_private_key", refuse),
        real_worker(queue),
    ):
        job = import_job_create(
            actor=actor,
            org=world.org,
            upload=upload(marked_export()),
            format_key="",
            collection=None,
        )  # autocommit: the task is sent to Redis now
        for _ in range(200):
            job.refresh_from_db()
            if not job.is_active:
                break
            time.sleep(0.1)
    assert refuse.call_count == 0
    assert job.status == ImportStatus.SUCCEEDED, job.failure_message
    assert job.acting_provider == world.provider and job.imported_total == 5
    assert job.data_key.purpose == DataKeyPurpose.IMPORT
    items = Item.objects.filter(org=world.org)
    assert items.count() == 5 and {item.data_key_id for item in items} == {job.data_key_id}
    assert not ImportUploadChunk.objects.filter(job=job).exists()
    # The owner's side, with the private key: what the worker wrote opens.
    assert opened_items(world.org)[f"{MARKER} bank"][0].get("password") == MARKER


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_broker_carries_the_job_id_only(world):
    url = redis_or_skip()
    import redis

    give_keys(world.org)
    queue = f"test-{uuid.uuid4().hex}"
    previous = (app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url)
    app.conf.update(task_always_eager=False, task_default_queue=queue, broker_url=url)
    try:
        job = import_job_create(
            actor=resolve(world.alice, world.org),
            org=world.org,
            upload=upload(marked_export()),
            format_key="",
            collection=None,
        )
        raw = redis.Redis.from_url(url).lpop(queue)
    finally:
        app.conf.update(
            task_always_eager=previous[0], task_default_queue=previous[1], broker_url=previous[2]
        )
    message = json.loads(raw)
    assert message["headers"]["task"] == "vault.tasks.run_import"
    body = base64.b64decode(message["body"])
    args, kwargs, _embed = json.loads(body)
    assert args == [str(job.pk)] and kwargs == {}
    assert MARKER.encode() not in raw + body
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED
