"""Baseline writes: saving, deleting, and applying one to clients through the policy
services, so every hook that runs when a policy is switched on runs here too.

Clients are applied in batches, each batch in one transaction (lock the batch's policy
rows, write what differs, per changed client one POLICY_UPDATED event naming every change
and its hooks, record what each was given): a client is never half-applied, and a job
that stops leaves whole batches done, which applying again then skips.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import Organization
from portal.access import (
    Actor,
    Capability,
    ProviderActor,
    ProviderCapability,
    actor_from_ties,
    orgs_with_ties,
    resolve_provider,
)
from portal.events import record_event, record_org_event
from portal.models import EventType
from providers.models import Provider
from providers.selectors import client_scope_for_actor

from ..models import (
    Baseline,
    BaselineApplyJob,
    BaselineAssignment,
    BaselineJobStatus,
    Policy,
)
from ..services import policy_change
from ..types import REGISTRY, registered_types
from .drift import differing_types, wanted_state

logger = logging.getLogger(__name__)

# Up to this many clients are applied during the request; more go to a Celery worker.
INLINE_MAX_CLIENTS = 5
# Clients applied in one transaction (and between two reports of the job's progress).
BATCH_SIZE = 50


class BaselineError(Exception):
    """A baseline change the user asked for and cannot have; the message says why."""


# --- Saving -------------------------------------------------------------------------------


def clean_baseline_settings(settings: dict) -> dict:
    """Every registered type as {"enabled": bool, "settings": {...}}, each type's settings
    validated by its own settings form (the one the org policy pages use)."""
    if not isinstance(settings, dict):
        raise BaselineError("A baseline's settings are a policy type → settings mapping.")
    unknown = sorted(set(settings) - set(REGISTRY))
    if unknown:
        offered = ", ".join(sorted(REGISTRY))
        raise BaselineError(f"There is no policy type “{unknown[0]}”. The types are: {offered}.")
    cleaned = {}
    for policy_type in registered_types():
        entry = settings.get(policy_type.key) or {}
        if not isinstance(entry, dict) or not isinstance(entry.get("enabled", False), bool):
            raise BaselineError(f"{policy_type.title}: say whether it is on (true or false).")
        form = policy_type.settings_form(
            data={**policy_type.default_settings(), **(entry.get("settings") or {})}
        )
        if not form.is_valid():
            problems = [
                f"{form.fields[name].label if name in form.fields else 'Settings'}: {message}"
                for name, messages in form.errors.items()
                for message in messages
            ]
            raise BaselineError(f"{policy_type.title}: " + " ".join(problems))
        cleaned[policy_type.key] = {
            "enabled": bool(entry.get("enabled")),
            "settings": dict(form.cleaned_data),
        }
    return cleaned


def _lock_provider_name(actor: ProviderActor, name: str, *, besides: Baseline | None) -> str:
    """The name, trimmed, once no other baseline of the provider has it (under the
    provider row's lock, so two saves cannot both take it)."""
    name = name.strip()
    if not name:
        raise BaselineError("Give the baseline a name.")
    Provider.objects.select_for_update().get(pk=actor.provider.pk)
    taken = Baseline.objects.filter(provider=actor.provider, name__iexact=name)
    if besides is not None:
        taken = taken.exclude(pk=besides.pk)
    if taken.exists():
        raise BaselineError(f"{actor.provider.name} already has a baseline named “{name}”.")
    return name


def _settings_changes(before: dict, after: dict) -> dict:
    """ "<Type> · <setting>": [before, after], for the event of an edited baseline."""
    changes = {}
    for policy_type in registered_types():
        old = before.get(policy_type.key) or {"enabled": False, "settings": {}}
        new = after.get(policy_type.key) or {"enabled": False, "settings": {}}
        if old.get("enabled") != new.get("enabled"):
            changes[f"{policy_type.title} · enabled"] = [old.get("enabled"), new.get("enabled")]
        for name, value in (new.get("settings") or {}).items():
            if (old.get("settings") or {}).get(name) != value:
                changes[f"{policy_type.title} · {name}"] = [
                    (old.get("settings") or {}).get(name),
                    value,
                ]
    return changes


def _record_baseline_event(actor: ProviderActor, baseline: Baseline, changes: dict) -> None:
    record_event(
        EventType.PROVIDER_UPDATED,
        user=actor.user,
        provider=actor.provider,
        obj=baseline,
        details={"name": baseline.name, "baseline": str(baseline.pk), "changes": changes},
    )


@transaction.atomic
def baseline_create(*, actor: ProviderActor, name: str, settings: dict) -> Baseline:
    settings = clean_baseline_settings(settings)
    name = _lock_provider_name(actor, name, besides=None)
    baseline = Baseline.objects.create(provider=actor.provider, name=name, settings=settings)
    _record_baseline_event(actor, baseline, {"baseline": [None, name]})
    return baseline


@transaction.atomic
def baseline_update(
    *, actor: ProviderActor, baseline: Baseline, name: str, settings: dict
) -> Baseline:
    """Rename or change a baseline. Clients it was applied to keep what they were given
    until it is applied again (their drift is measured against that)."""
    settings = clean_baseline_settings(settings)
    name = _lock_provider_name(actor, name, besides=baseline)
    baseline = Baseline.objects.select_for_update().get(pk=baseline.pk, provider=actor.provider)
    changes = _settings_changes(baseline.settings, settings)
    if baseline.name != name:
        changes["name"] = [baseline.name, name]
    if not changes:
        return baseline
    baseline.name, baseline.settings, baseline.updated_at = name, settings, timezone.now()
    baseline.save(update_fields=["name", "settings", "updated_at"])
    _record_baseline_event(actor, baseline, changes)
    return baseline


@transaction.atomic
def baseline_delete(*, actor: ProviderActor, baseline: Baseline) -> int:
    """Delete a baseline; its clients keep their policies and stop being compared with
    it. Returns how many clients had been given it."""
    baseline = Baseline.objects.select_for_update().get(pk=baseline.pk, provider=actor.provider)
    clients = baseline.assignments.count()
    _record_baseline_event(actor, baseline, {"baseline": [baseline.name, None]})
    baseline.delete()
    return clients


# --- Applying -----------------------------------------------------------------------------


def baseline_apply(
    *,
    actor: ProviderActor,
    baseline: Baseline,
    clients: list[Organization] | None,
) -> BaselineApplyJob:
    """Apply `baseline` to `clients` (None: every client the actor reaches). A few are
    done before this returns; more run in a Celery worker (the job shows the progress)."""
    job = _job_create(actor=actor, baseline=baseline, clients=clients)
    if job.total <= INLINE_MAX_CLIENTS:
        baseline_job_run(job_id=job.pk)
        job.refresh_from_db()
    return job


@transaction.atomic
def _job_create(
    *, actor: ProviderActor, baseline: Baseline, clients: list[Organization] | None
) -> BaselineApplyJob:
    from ..tasks import apply_baseline

    reachable = client_scope_for_actor(actor=actor)
    if clients is not None:
        reachable = reachable.filter(pk__in=[client.pk for client in clients])
    ids = [str(pk) for pk in reachable.order_by("name", "pk").values_list("pk", flat=True)]
    if not ids:
        raise BaselineError(
            "Tick at least one client, or choose “All clients”."
            if clients is not None
            else f"{actor.provider.name} has no clients to apply it to yet."
        )
    job = BaselineApplyJob.objects.create(
        provider=actor.provider,
        baseline=baseline,
        baseline_name=baseline.name,
        created_by=actor.user,
        client_ids=ids,
        total=len(ids),
    )
    if job.total > INLINE_MAX_CLIENTS:
        job_id = str(job.pk)
        transaction.on_commit(lambda: apply_baseline.delay(job_id))
    return job


def baseline_job_run(*, job_id: UUID | str) -> None:
    """Run a queued job (the Celery task, or the request for a few clients). A job that is
    gone, or taken by another worker, is left alone."""
    now = timezone.now()
    claimed = BaselineApplyJob.objects.filter(pk=job_id, status=BaselineJobStatus.QUEUED).update(
        status=BaselineJobStatus.RUNNING, heartbeat_at=now
    )
    if not claimed:
        return
    job = BaselineApplyJob.objects.select_related("provider", "baseline", "created_by").get(
        pk=job_id
    )
    try:
        _run(job)
    except Exception:
        logger.exception("Baseline job %s of provider %s failed", job.pk, job.provider_id)
        _finish(
            job,
            status=BaselineJobStatus.FAILED,
            message="The job stopped on an unexpected error. Clients done so far keep what "
            "they were given; apply the baseline again to finish (those are skipped).",
        )


class _Run:
    """The counts of one job as it goes."""

    def __init__(self, job: BaselineApplyJob):
        self.job = job
        self.done = self.changed = self.unchanged = 0
        self.skipped: list[dict] = []

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append({"client": name, "reason": reason})

    def report(self) -> None:
        BaselineApplyJob.objects.filter(pk=self.job.pk).update(
            done=self.done,
            changed=self.changed,
            unchanged=self.unchanged,
            heartbeat_at=timezone.now(),
        )


def _run(job: BaselineApplyJob) -> None:
    user, baseline = job.created_by, job.baseline
    provider_actor = resolve_provider(user, job.provider) if user is not None else None
    if provider_actor is None or not provider_actor.can(ProviderCapability.BASELINES_MANAGE):
        _finish(job, status=BaselineJobStatus.FAILED, message=_NOT_ADMIN)
        return
    if baseline is None:
        _finish(job, status=BaselineJobStatus.FAILED, message="The baseline was deleted first.")
        return
    applied = baseline.settings
    run = _Run(job)
    orgs = list(
        client_scope_for_actor(actor=provider_actor)
        .filter(pk__in=job.client_ids)
        .order_by("name", "pk")
    )
    reached = {str(org.pk) for org in orgs}
    gone = [pk for pk in job.client_ids if pk not in reached]
    for name in Organization.objects.filter(pk__in=gone).values_list("name", flat=True):
        run.skip(name, "No longer a client you manage.")  # (a deleted one has no name)
    run.done += len(gone)
    for start in range(0, len(orgs), BATCH_SIZE):
        _run_batch(run, user, baseline, applied, orgs[start : start + BATCH_SIZE])
        run.report()
    _finish(job, status=BaselineJobStatus.SUCCEEDED, run=run)


def _run_batch(run: _Run, user, baseline: Baseline, applied: dict, orgs: list) -> None:
    """Read the batch's policies and assignments in bulk: a client that already matches
    and was given this baseline is left without a lock or a write; the rest are applied
    together, each under its own provider-side actor."""
    policies: dict = {}
    for policy in Policy.objects.filter(org_id__in=[org.pk for org in orgs]):
        policies.setdefault(policy.org_id, {})[policy.type] = policy
    assignments = {
        a.org_id: a for a in BaselineAssignment.objects.filter(org_id__in=[o.pk for o in orgs])
    }
    to_apply = []
    for org in orgs:
        run.done += 1
        if _already_given(assignments.get(org.pk), baseline, applied, policies.get(org.pk, {})):
            run.unchanged += 1
        elif not org.enabled:
            run.skip(org.name, "Disabled: enable the client first.")
        else:
            to_apply.append(org)
    # The permission layer's reading of the user's ties to each client, in one query.
    ties = {tied.pk: tied for tied in orgs_with_ties(user).filter(pk__in=[o.pk for o in to_apply])}
    actors = []
    for org in to_apply:
        tied = ties.get(org.pk)
        actor = actor_from_ties(user, org, tied) if tied is not None else None
        if actor is None or not actor.can(Capability.POLICIES_MANAGE):
            run.skip(org.name, "You cannot manage this client's policies.")
            continue
        actors.append(actor)
    if not actors:
        return
    try:
        changed = baseline_apply_to_clients(actors=actors, baseline=baseline, applied=applied)
    except IntegrityError:  # a policy row created meanwhile by a client: now there to lock
        changed = baseline_apply_to_clients(actors=actors, baseline=baseline, applied=applied)
    run.changed += changed
    run.unchanged += len(actors) - changed


_NOT_ADMIN = "Whoever started this job is no longer a provider admin here, so nothing was applied."


def _already_given(
    assignment: BaselineAssignment | None, baseline: Baseline, applied: dict, policies: dict
) -> bool:
    return (
        assignment is not None
        and assignment.baseline_id == baseline.pk
        and assignment.applied_settings == applied
        and not assignment.drift
        and not differing_types(applied, policies)
    )


@dataclass
class _ClientChange:
    actor: Actor
    changes: dict = field(default_factory=dict)
    switched_on: list = field(default_factory=list)


@transaction.atomic
def baseline_apply_to_clients(*, actors: list[Actor], baseline: Baseline, applied: dict) -> int:
    """Bring each actor's client to `applied` (a baseline's settings) through
    `policy_change`: per changed client one POLICY_UPDATED event naming every change,
    then each `switched_on` hook; every client is recorded as given the baseline.
    Returns how many clients changed.

    A few queries for the whole batch (lock the policy rows, one update, one insert,
    one upsert of the assignments), then per changed client its event and its hooks. A
    row created at the same moment by a client's own admin makes the insert fail: the
    caller tries again (the row is then there to lock).
    """
    orgs = [actor.org for actor in actors]
    locked: dict = {org.pk: {} for org in orgs}
    rows = Policy.objects.select_for_update().filter(org__in=orgs).order_by("org_id", "type")
    for policy in rows:
        locked[policy.org_id][policy.type] = policy
    clients, to_update, to_create = [], [], []
    for actor in actors:
        client = _ClientChange(actor)
        _client_changes(client, locked[actor.org.pk], applied, to_update, to_create)
        clients.append(client)
    if to_update:
        Policy.objects.bulk_update(to_update, ["enabled", "settings"])
    if to_create:
        Policy.objects.bulk_create(to_create)
    changed = [client for client in clients if client.changes]
    for client in changed:
        record_org_event(
            EventType.POLICY_UPDATED,
            actor=client.actor,
            obj=baseline,
            details={"name": baseline.name, "changes": client.changes},
        )
        for policy_type, policy in client.switched_on:
            policy_type.switched_on(policy=policy, actor=client.actor)
    now = timezone.now()
    BaselineAssignment.objects.bulk_create(
        [
            BaselineAssignment(
                org=org,
                baseline=baseline,
                applied_settings=applied,
                applied_at=now,
                drift=differing_types(applied, locked[org.pk]),
            )
            for org in orgs
        ],
        update_conflicts=True,
        unique_fields=["org"],
        update_fields=["baseline", "applied_settings", "applied_at", "drift"],
    )
    return len(changed)


def _client_changes(
    client: _ClientChange, policies: dict, applied: dict, to_update: list, to_create: list
) -> None:
    """One client's changes, set on its (locked or new) policy rows, which join the
    batch's writes; `policies` (by type) then holds the client's state after them."""
    org = client.actor.org
    for policy_type in registered_types():
        entry = applied.get(policy_type.key)
        if entry is None:  # a type the baseline does not set
            continue
        enabled, settings = wanted_state(policy_type, entry)
        policy = policies.get(policy_type.key)
        if policy is None:
            if not enabled:  # off, and no row: off already
                continue
            policy = Policy(org=org, type=policy_type.key)
        policy.org = org
        changes, on = policy_change(
            policy=policy, policy_type=policy_type, enabled=enabled, settings=settings or {}
        )
        if not changes:
            continue
        if policy.pk is None:
            to_create.append(policy)
            policies[policy_type.key] = policy
        else:
            to_update.append(policy)
        for name, pair in changes.items():
            client.changes[f"{policy_type.title} · {name}"] = pair
        if on:
            client.switched_on.append((policy_type, policy))


@transaction.atomic
def _finish(
    job: BaselineApplyJob, *, status: str, run: _Run | None = None, message: str = ""
) -> None:
    """The job's result, and one event in the provider's log."""
    job = BaselineApplyJob.objects.select_for_update().get(pk=job.pk)
    if run is not None:
        job.done, job.changed, job.unchanged = run.done, run.changed, run.unchanged
        job.skipped = run.skipped
    job.status, job.failure_message, job.finished_at = status, message, timezone.now()
    job.heartbeat_at = job.finished_at
    job.save(
        update_fields=[
            "done",
            "changed",
            "unchanged",
            "skipped",
            "status",
            "failure_message",
            "finished_at",
            "heartbeat_at",
        ]
    )
    outcome = (
        f"{job.changed} changed, {job.unchanged} already matched, {len(job.skipped)} skipped"
        if status == BaselineJobStatus.SUCCEEDED
        else f"failed: {message}"
    )
    record_event(
        EventType.PROVIDER_UPDATED,
        user=job.created_by,
        provider=job.provider,
        obj=job.baseline,
        details={
            "name": job.baseline_name,
            "baseline_job": str(job.pk),
            "changes": {f"applied to {job.total} clients": [None, outcome]},
        },
    )
