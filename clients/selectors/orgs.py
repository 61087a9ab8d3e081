"""Reads on client organizations themselves: lists, counts, onboarding state."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.models import Count, Exists, OuterRef, QuerySet, Value

from policies.models import Policy

from ..models import Collection, Group, MemberRole, Membership, MemberStatus, Organization


def org_list_for_user(user) -> QuerySet[Organization]:
    """Orgs where the user is a confirmed member."""
    return Organization.objects.filter(
        memberships__user=user, memberships__status=MemberStatus.CONFIRMED
    ).order_by("name")


def member_counts(*, org: Organization) -> dict[str, int]:
    rows = org.memberships.values("status").annotate(n=Count("pk"))
    counts = {status: 0 for status in MemberStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def seats_used(*, org: Organization) -> int:
    return org.memberships.exclude(status=MemberStatus.REVOKED).count()


@dataclass(frozen=True)
class OnboardingState:
    """Which steps of the recommended onboarding a client has done, from its actual rows."""

    collections_created: bool
    data_imported: bool
    policies_configured: bool
    groups_created: bool
    users_invited: bool
    users_confirmed: bool

    @property
    def complete(self) -> bool:
        return all(vars(self).values())


def onboarding_state(*, org: Organization) -> OnboardingState:
    """One query: an EXISTS per step."""
    in_org = {"org": OuterRef("pk")}
    non_owners = Membership.objects.filter(**in_org).exclude(role=MemberRole.OWNER)
    state = (
        Organization.objects.filter(pk=org.pk)
        .annotate(
            collections_created=Exists(Collection.objects.filter(**in_org, is_default=False)),
            data_imported=_items_exist(),
            policies_configured=Exists(Policy.objects.filter(**in_org, enabled=True)),
            groups_created=Exists(Group.objects.filter(**in_org)),
            users_invited=Exists(non_owners),
            confirmed=Exists(non_owners.filter(status=MemberStatus.CONFIRMED)),
            awaiting=Exists(Membership.objects.filter(**in_org, status=MemberStatus.ACCEPTED)),
        )
        .values(
            "collections_created",
            "data_imported",
            "policies_configured",
            "groups_created",
            "users_invited",
            "confirmed",
            "awaiting",
        )
        .get()
    )
    confirmed, awaiting = state.pop("confirmed"), state.pop("awaiting")
    # Confirmed: some invited user is confirmed and nobody who accepted is left waiting.
    return OnboardingState(**state, users_confirmed=confirmed and not awaiting)


def _items_exist():
    """Whether the org has vault items; False until the vault app has its Item model."""
    try:
        item_model = apps.get_model("vault", "Item")
    except LookupError:
        return Value(False)
    return Exists(item_model.objects.filter(org=OuterRef("pk")))
