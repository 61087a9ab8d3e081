"""Tasks through the real broker: Redis carries ids only, and a real worker runs them."""

import base64
import json
import re
import time
import uuid
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core import mail

from clients.models import MemberStatus
from portal.celery import app
from portal.services import invitation_create
from tests import factories


def redis_or_skip():
    url = settings.REDIS_URL
    if not url:
        pytest.skip("REDIS_URL is not set: the real-broker tests need Redis")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {url} does not answer: {error}")
    return url


@contextmanager
def real_worker(queue: str):
    """A Celery worker thread on the real Redis broker, consuming a queue of its own."""
    from celery.contrib.testing.worker import start_worker

    previous = (app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url)
    app.conf.update(
        task_always_eager=False, task_default_queue=queue, broker_url=settings.REDIS_URL
    )
    try:
        with start_worker(
            app, pool="solo", queues=[queue], perform_ping_check=False, shutdown_timeout=10
        ):
            yield
    finally:
        app.conf.update(
            task_always_eager=previous[0], task_default_queue=previous[1], broker_url=previous[2]
        )


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_invitation_email_is_sent_by_a_real_worker():
    redis_or_skip()
    queue = f"test-{uuid.uuid4().hex}"
    org = factories.OrganizationFactory()
    membership = factories.MembershipFactory(
        org=org, user=None, email="worker@example.test", status=MemberStatus.INVITED
    )
    with real_worker(queue):
        invitation_create(email=membership.email, membership=membership)  # autocommit: sends now
        for _ in range(100):
            if mail.outbox:
                break
            time.sleep(0.1)
    assert len(mail.outbox) == 1
    assert re.search(r"/invitations/open/\?token=[\w-]+", mail.outbox[0].body)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_broker_messages_carry_ids_only():
    url = redis_or_skip()
    import redis

    queue = f"test-{uuid.uuid4().hex}"
    org = factories.OrganizationFactory()
    membership = factories.MembershipFactory(
        org=org, user=None, email="secretive@example.test", status=MemberStatus.INVITED
    )
    previous = (app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url)
    app.conf.update(task_always_eager=False, task_default_queue=queue, broker_url=url)
    try:
        invitation = invitation_create(email=membership.email, membership=membership)
        raw = redis.Redis.from_url(url).lpop(queue)
    finally:
        app.conf.update(
            task_always_eager=previous[0], task_default_queue=previous[1], broker_url=previous[2]
        )
    message = json.loads(raw)
    assert message["headers"]["task"] == "portal.tasks.send_invitation"
    assert message["properties"]["body_encoding"] == "base64"
    args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert args == [str(invitation.pk)] and kwargs == {}
    assert b"secretive@example.test" not in raw + base64.b64decode(message["body"])
