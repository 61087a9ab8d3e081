"""Applying a baseline to many clients through the real broker (Redis) and a real worker."""

import base64
import json
import time
import uuid

import pytest

from policies.baselines.services import INLINE_MAX_CLIENTS, baseline_apply
from policies.models import BaselineApplyJob, BaselineJobStatus, Policy, PolicyType
from portal.access import resolve_provider
from portal.celery import app
from portal.models import Event, EventType
from tests import factories
from tests.policies.baseline_helpers import make_baseline
from tests.portal.test_celery_worker import real_worker, redis_or_skip


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_applies_a_baseline_to_many_clients(world):
    url = redis_or_skip()
    import redis

    clients = [
        factories.OrganizationFactory(name=f"Client {n}", provider=world.provider)
        for n in range(INLINE_MAX_CLIENTS + 2)
    ]
    baseline = make_baseline(
        world.provider, world.provider_admin, vault_timeout={"minutes": 20, "action": "logout"}
    )
    actor = resolve_provider(world.provider_admin, world.provider)
    queue = f"test-{uuid.uuid4().hex}"
    # Sent first with no worker listening, to read the message the worker then takes.
    previous = (app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url)
    app.conf.update(task_always_eager=False, task_default_queue=queue, broker_url=url)
    try:
        job = baseline_apply(actor=actor, baseline=baseline, clients=None)  # autocommit: sent
        broker = redis.Redis.from_url(url)
        raw = broker.lindex(queue, 0)
    finally:
        app.conf.update(
            task_always_eager=previous[0], task_default_queue=previous[1], broker_url=previous[2]
        )
    message = json.loads(raw)
    assert message["headers"]["task"] == "policies.tasks.apply_baseline"
    args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert args == [str(job.pk)] and kwargs == {}  # the job's id, nothing else
    with real_worker(queue):
        for _ in range(200):
            job.refresh_from_db()
            if not job.is_active:
                break
            time.sleep(0.1)
    assert job.status == BaselineJobStatus.SUCCEEDED, job.failure_message
    assert (job.changed, job.total) == (len(clients) + 1, len(clients) + 1)
    for org in [world.org, *clients]:
        row = Policy.objects.get(org=org, type=PolicyType.VAULT_TIMEOUT)
        assert row.enabled and row.settings == {"minutes": 20, "action": "logout"}
        assert Event.objects.filter(type=EventType.POLICY_UPDATED, org=org).count() == 1
    assert BaselineApplyJob.objects.count() == 1
