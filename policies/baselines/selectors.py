"""Baseline reads, always scoped by the provider (and the actor's clients)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from clients.models import Organization
from portal.access import ProviderActor
from providers.models import Provider
from providers.selectors import client_scope_for_actor

from ..models import Baseline, BaselineApplyJob, BaselineAssignment, Policy
from ..types import registered_types
from .drift import TypeComparison, compare, describe


def baseline_list(*, provider: Provider, search: str = "") -> QuerySet[Baseline]:
    """The provider's baselines, each with how many clients were given it (one query)."""
    baselines = Baseline.objects.filter(provider=provider).annotate(
        client_count=Count("assignments")
    )
    if search:
        baselines = baselines.filter(name__icontains=search.strip())
    return baselines.order_by("name", "pk")


def baseline_in_provider(*, provider: Provider, baseline_id) -> Baseline | None:
    """The provider's baseline of that id; another provider's is None (a 404)."""
    return Baseline.objects.filter(provider=provider, pk=baseline_id).first()


def baseline_summary(baseline: Baseline) -> list[tuple[str, str]]:
    """(type title, "Off" or "On (settings)") for each type the baseline sets."""
    return [
        (policy_type.title, describe(policy_type, baseline.settings[policy_type.key]))
        for policy_type in registered_types()
        if policy_type.key in baseline.settings
    ]


def clients_to_choose(*, actor: ProviderActor, search: str = "") -> QuerySet[Organization]:
    """The clients the actor reaches, with the baseline each was given (for the apply page)."""
    clients = client_scope_for_actor(actor=actor).select_related("baseline_assignment__baseline")
    if search:
        clients = clients.filter(name__icontains=search.strip())
    return clients.order_by("name", "pk")


def baseline_job_in_provider(*, provider: Provider, job_id) -> BaselineApplyJob | None:
    return BaselineApplyJob.objects.filter(provider=provider, pk=job_id).first()


def recent_jobs(*, baseline: Baseline, limit: int = 5) -> list[BaselineApplyJob]:
    return list(baseline.jobs.order_by("-created_at")[:limit])


@dataclass(frozen=True)
class ClientDrift:
    assignment: BaselineAssignment
    comparisons: list[TypeComparison]

    @property
    def differing(self) -> list[TypeComparison]:
        return [c for c in self.comparisons if c.differs]


def client_drift(*, provider: Provider, org: Organization) -> ClientDrift | None:
    """The baseline `org` was given by `provider` and, per type, then against now (two
    queries); None when it was given none of this provider's."""
    assignment = (
        BaselineAssignment.objects.select_related("baseline")
        .filter(org=org, baseline__provider=provider)
        .first()
    )
    if assignment is None:
        return None
    policies = {policy.type: policy for policy in Policy.objects.filter(org=org)}
    return ClientDrift(assignment, compare(assignment.applied_settings, policies))
