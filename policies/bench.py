"""Applying a provider baseline to every client that providers.bench seeded.

The job runs through its Celery task, eagerly in this process (as the test settings
run tasks), so the figure is the task's own work: the bulk reads, then each client in
its transaction (lock its policies, write, one event, the switched-on hooks).
"""

from __future__ import annotations

import logging
import time

from django.db.models import Count

from portal.access import resolve_provider
from portal.benchmarking import BenchContext, Figure
from portal.celery import app
from portal.models import Event, EventType

from .baselines.services import baseline_apply, baseline_create
from .models import BaselineJobStatus
from .types import registered_types

APPLY_TARGET_S = 30

# Every type on except account recovery; settings other than the defaults.
BENCH_SETTINGS = {
    "two_step_login": {},
    "master_password": {"min_length": 14, "require_digits": True},
    "password_generator": {"length": 20, "use_special": True},
    "single_org": {},
    "vault_timeout": {"minutes": 30, "action": "logout"},
    "remove_card_item_type": {},
}


def _settings() -> dict:
    return {
        policy_type.key: {
            "enabled": policy_type.key in BENCH_SETTINGS,
            "settings": {
                **policy_type.default_settings(),
                **BENCH_SETTINGS.get(policy_type.key, {}),
            },
        }
        for policy_type in registered_types()
    }


def seed(ctx: BenchContext) -> None:
    actor = resolve_provider(ctx.shared["provider_admin"], ctx.shared["provider"])
    ctx.shared["baseline"] = baseline_create(
        actor=actor, name="Bench baseline", settings=_settings()
    )


def _apply(ctx: BenchContext, actor):
    """One apply to every seeded client, through the task (eager); (job, seconds)."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    # The task's own log lines would print among the figures.
    for name in ("celery.app.trace", "portal.task"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        started = time.perf_counter()
        job = baseline_apply(
            actor=actor, baseline=ctx.shared["baseline"], clients=ctx.shared["orgs"]
        )
        seconds = time.perf_counter() - started
    finally:
        app.conf.task_always_eager = previous
    job.refresh_from_db()
    if job.status != BaselineJobStatus.SUCCEEDED:
        raise RuntimeError(f"The baseline job ended {job.status}: {job.failure_message}")
    return job, seconds


def figures(ctx: BenchContext) -> list[Figure]:
    actor = resolve_provider(ctx.shared["provider_admin"], ctx.shared["provider"])
    orgs = ctx.shared["orgs"]
    first_event = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    job, seconds = _apply(ctx, actor)
    per_client = (
        Event.objects.filter(
            id__gt=first_event, type=EventType.POLICY_UPDATED, org_id__in=[o.pk for o in orgs]
        )
        .values("org_id")
        .annotate(n=Count("id"))
    )
    events = {row["org_id"]: row["n"] for row in per_client}
    if len(events) != job.changed or any(n != 1 for n in events.values()):
        raise RuntimeError(
            f"{job.changed} clients changed but {sum(events.values())} events in "
            f"{len(events)} clients: one event per changed client was expected"
        )
    again, seconds_again = _apply(ctx, actor)
    label = f"apply a baseline to {len(orgs):,} clients (the Celery task, eager)"
    return [
        Figure(
            label,
            seconds,
            "s",
            APPLY_TARGET_S,
            detail=f"{job.changed:,} changed with one event each, {job.unchanged:,} unchanged",
        ),
        Figure(
            f"{label}, again (all unchanged)",
            seconds_again,
            "s",
            APPLY_TARGET_S,
            detail=f"{again.changed:,} changed, {again.unchanged:,} unchanged",
        ),
    ]
