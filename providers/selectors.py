"""Reads for the provider portal, always scoped to the provider (and the actor's client scope).

The dashboard and billing counts are correlated subqueries rather than joins with
GROUP BY: each stays an index lookup per client row, any column can be sorted on,
and a page costs the same number of queries with ten clients or ten thousand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.models import MemberRole, Membership, MemberStatus, Organization, Plan
from policies.models import Policy
from portal.access import ProviderActor
from portal.events import in_date_range
from portal.models import Event, Invitation

from .models import Provider, ProviderRole, ProviderUser, ProviderUserStatus


def provider_list_for_user(user) -> QuerySet[Provider]:
    return Provider.objects.filter(
        enabled=True,
        provider_users__user=user,
        provider_users__status=ProviderUserStatus.CONFIRMED,
    ).order_by("name")


def confirmed_admin_count(*, provider: Provider) -> int:
    return ProviderUser.objects.filter(
        provider=provider, role=ProviderRole.ADMIN, status=ProviderUserStatus.CONFIRMED
    ).count()


def provider_user_list(*, provider: Provider, search: str = "") -> QuerySet[ProviderUser]:
    users = provider.provider_users.select_related("user").annotate(
        scoped_client_count=Count("client_scope")
    )
    if search:
        term = search.strip()
        users = users.filter(Q(email__icontains=term) | Q(user__name__icontains=term))
    return users.order_by("email", "pk")


def provider_staff_users(*, provider: Provider):
    """Accounts of the provider's staff, for the event log's user filter."""
    return get_user_model().objects.filter(provider_users__provider=provider).order_by("email")


# --- Clients ---------------------------------------------------------------------------


def _count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of `queryset` (already filtered on OuterRef("pk")) as a scalar subquery."""
    # COUNT as a plain function, not an aggregate, so Django adds no GROUP BY: the
    # subquery is one row, the count of whatever rows the filter left.
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _members(status: str | None = None) -> QuerySet[Membership]:
    members = Membership.objects.filter(org=OuterRef("pk"))
    return members.filter(status=status) if status else members


def _without_two_step() -> QuerySet[Membership]:
    """Confirmed members whose account has no confirmed TOTP device."""
    devices = TOTPDevice.objects.filter(user=OuterRef("user_id"), confirmed=True)
    return _members(MemberStatus.CONFIRMED).filter(~Exists(devices))


def _with_counts(clients: QuerySet[Organization]) -> QuerySet[Organization]:
    last_event = Event.objects.filter(org=OuterRef("pk")).order_by("-occurred_at")
    pending = Invitation.objects.filter(
        membership__org=OuterRef("pk"), used_at__isnull=True, expires_at__gt=timezone.now()
    )
    return clients.annotate(
        invited=_count(_members(MemberStatus.INVITED)),
        accepted=_count(_members(MemberStatus.ACCEPTED)),
        confirmed=_count(_members(MemberStatus.CONFIRMED)),
        revoked=_count(_members(MemberStatus.REVOKED)),
        pending_invitations=_count(pending),
        policies_enabled=_count(Policy.objects.filter(org=OuterRef("pk"), enabled=True)),
        without_two_step=_count(_without_two_step()),
        last_activity=Subquery(last_event.values("occurred_at")[:1]),
    ).annotate(
        # Every member who is not revoked holds a seat, invited ones included.
        seats_used=F("invited") + F("accepted") + F("confirmed"),
        seats_remaining=F("seats") - F("invited") - F("accepted") - F("confirmed"),
    )


def client_scope_for_actor(*, actor: ProviderActor) -> QuerySet[Organization]:
    """The provider's clients the actor reaches; the internal team is not a client."""
    clients = Organization.objects.filter(provider=actor.provider)
    if actor.provider.internal_org_id:
        clients = clients.exclude(pk=actor.provider.internal_org_id)
    if not actor.reaches_all_clients:
        clients = clients.filter(scoped_provider_users=actor.provider_user)
    return clients


# Dashboard columns a visitor may sort on: ?sort=<key> ascending, ?sort=-<key> descending.
DASHBOARD_SORTS = frozenset(
    {
        "name",
        "plan",
        "seats",
        "seats_used",
        "seats_remaining",
        "invited",
        "accepted",
        "confirmed",
        "revoked",
        "pending_invitations",
        "policies_enabled",
        "without_two_step",
        "last_activity",
    }
)
DEFAULT_SORT = "name"


def clean_sort(sort: str | None) -> str:
    """The requested sort if it names a sortable column, else the default."""
    return sort if sort and sort.lstrip("-") in DASHBOARD_SORTS else DEFAULT_SORT


def client_list_for_actor(
    *, actor: ProviderActor, search: str = "", sort: str = DEFAULT_SORT
) -> QuerySet[Organization]:
    """The clients the actor may see, with the dashboard's counts, sorted and searched."""
    clients = client_scope_for_actor(actor=actor)
    if search:
        clients = clients.filter(name__icontains=search.strip())
    sort = clean_sort(sort)
    key = sort.lstrip("-")
    order = F(key).desc(nulls_last=True) if sort.startswith("-") else F(key).asc(nulls_last=True)
    return _with_counts(clients).order_by(order, "name", "pk")


@dataclass(frozen=True)
class ClientTotals:
    clients: int
    seats: int
    seats_used: int
    invited: int
    accepted: int
    confirmed: int
    pending_invitations: int
    without_two_step: int


def client_totals_for_actor(*, actor: ProviderActor) -> ClientTotals:
    """The dashboard's totals over every client the actor reaches, in one query."""
    counted = _with_counts(client_scope_for_actor(actor=actor))
    fields = ["seats", "seats_used", "invited", "accepted", "confirmed"]
    fields += ["pending_invitations", "without_two_step"]
    row = counted.aggregate(clients=Count("pk"), **{f: Coalesce(Sum(f), 0) for f in fields})
    return ClientTotals(**row)


# --- Billing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanTotals:
    plan: str
    label: str
    clients: int
    seats: int
    seats_used: int

    @property
    def seats_remaining(self) -> int:
        return self.seats - self.seats_used


def billing_rows(*, provider: Provider) -> QuerySet[Organization]:
    """Every client of the provider with its seats, the internal team excluded."""
    clients = Organization.objects.filter(provider=provider)
    if provider.internal_org_id:
        clients = clients.exclude(pk=provider.internal_org_id)
    seats_used = _count(_members().exclude(status=MemberStatus.REVOKED))
    return (
        clients.annotate(seats_used=seats_used)
        .annotate(seats_remaining=F("seats") - F("seats_used"))
        .order_by("name", "pk")
    )


def billing_totals(*, provider: Provider) -> list[PlanTotals]:
    """Clients, seats assigned and seats used per plan (one query)."""
    rows = billing_rows(provider=provider).order_by().values("plan")
    rows = rows.annotate(clients=Count("pk"), seats_total=Sum("seats"), used=Sum("seats_used"))
    by_plan = {row["plan"]: row for row in rows}
    return [
        PlanTotals(
            plan=plan.value,
            label=plan.label,
            clients=by_plan.get(plan.value, {}).get("clients", 0),
            seats=by_plan.get(plan.value, {}).get("seats_total") or 0,
            seats_used=by_plan.get(plan.value, {}).get("used") or 0,
        )
        for plan in Plan
    ]


def internal_org_row(*, provider: Provider) -> Organization | None:
    if not provider.internal_org_id:
        return None
    seats_used = _count(_members().exclude(status=MemberStatus.REVOKED))
    return (
        Organization.objects.filter(pk=provider.internal_org_id)
        .annotate(seats_used=seats_used)
        .annotate(seats_remaining=F("seats") - F("seats_used"))
        .first()
    )


def addable_orgs_for_user(user) -> QuerySet[Organization]:
    """Orgs the user may bring under a provider: a confirmed owner, and no provider yet."""
    owned = Membership.objects.filter(
        org=OuterRef("pk"), user=user, role=MemberRole.OWNER, status=MemberStatus.CONFIRMED
    )
    return Organization.objects.filter(
        Exists(owned), provider__isnull=True, internal_of_provider__isnull=True
    ).order_by("name", "pk")


# --- Event logs ------------------------------------------------------------------------


def provider_event_list(
    *,
    provider: Provider,
    start: date | None = None,
    end: date | None = None,
    user=None,
    client: Organization | None = None,
) -> QuerySet[Event]:
    """The provider's own log: its staff's and its clients' lifecycle events.

    Each client event has a row here (provider=...) and a row in the client's
    log (org=...); this log names the client by the row's object.
    """
    events = Event.objects.filter(provider=provider).select_related("actor")
    events = in_date_range(events, start=start, end=end)
    if user is not None:
        events = events.filter(actor=user)
    if client is not None:
        events = events.filter(object_type="organization", object_id=str(client.pk))
    return events.order_by("-occurred_at", "-id")


def client_event_list(
    *,
    provider: Provider,
    start: date | None = None,
    end: date | None = None,
    client: Organization | None = None,
) -> QuerySet[Event]:
    """The event logs of all the provider's current clients, merged. A client that was
    unlinked takes its log with it."""
    events = Event.objects.filter(org__provider=provider)
    events = events.select_related("actor", "org", "acting_provider")
    events = in_date_range(events, start=start, end=end)
    if client is not None:
        events = events.filter(org=client)
    return events.order_by("-occurred_at", "-id")
