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


def _aggregate(queryset: QuerySet, function: str, field: str = "pk") -> Coalesce:
    """COUNT or SUM over all rows of `queryset` as a scalar subquery (0 when none)."""
    # A plain function, not a Django aggregate, so no GROUP BY is added: the subquery
    # is one row over whatever rows the filter left (correlated by OuterRef or not).
    value = queryset.order_by().annotate(v=Func(F(field), function=function)).values("v")
    return Coalesce(Subquery(value, output_field=IntegerField()), 0)


def _count(queryset: QuerySet) -> Coalesce:
    return _aggregate(queryset, "COUNT")


def _members(status: str | None = None) -> QuerySet[Membership]:
    members = Membership.objects.filter(org=OuterRef("pk"))
    return members.filter(status=status) if status else members


def _without_two_step() -> QuerySet[Membership]:
    """Confirmed members whose account has no confirmed TOTP device."""
    devices = TOTPDevice.objects.filter(user=OuterRef("user_id"), confirmed=True)
    return _members(MemberStatus.CONFIRMED).filter(~Exists(devices))


def _member_counts() -> dict:
    return {
        "invited": _count(_members(MemberStatus.INVITED)),
        "accepted": _count(_members(MemberStatus.ACCEPTED)),
        "confirmed": _count(_members(MemberStatus.CONFIRMED)),
    }


def _health_counts() -> dict:
    # Counted from the org's invited memberships (indexed by org and status), each with
    # a live invitation: starting from invitations, which have no org column, would
    # scan them all for every client. Only an invited member's invitation can be used.
    live_invitation = Invitation.objects.filter(
        membership=OuterRef("pk"), used_at__isnull=True, expires_at__gt=timezone.now()
    )
    return {
        "pending_invitations": _count(
            _members(MemberStatus.INVITED).filter(Exists(live_invitation))
        ),
        "without_two_step": _count(_without_two_step()),
    }


def _dashboard_columns() -> dict:
    """The dashboard's per-client figures, by the name of their column."""
    last_event = Event.objects.filter(org=OuterRef("pk")).order_by("-occurred_at")
    return {
        **_member_counts(),
        "revoked": _count(_members(MemberStatus.REVOKED)),
        **_health_counts(),
        "policies_enabled": _count(Policy.objects.filter(org=OuterRef("pk"), enabled=True)),
        "last_activity": Subquery(last_event.values("occurred_at")[:1]),
        # Every member who is not revoked holds a seat, invited ones included. Its own
        # subquery: a sum of the columns above would repeat their SQL in each row.
        "seats_used": _count(_members().exclude(status=MemberStatus.REVOKED)),
    }


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


def _ordering(sort: str) -> tuple:
    key = sort.lstrip("-")
    order = F(key).desc(nulls_last=True) if sort.startswith("-") else F(key).asc(nulls_last=True)
    return (order, "name", "pk")


def client_list_for_actor(
    *, actor: ProviderActor, search: str = "", sort: str = DEFAULT_SORT
) -> QuerySet[Organization]:
    """The clients the actor may see, searched and sorted, to paginate.

    Only the sorted column is computed here, for every client; the page's other
    figures come from `client_rows_with_counts`, for the page's rows alone. So page 40
    costs what page 1 does.
    """
    clients = client_scope_for_actor(actor=actor)
    if search:
        clients = clients.filter(name__icontains=search.strip())
    sort = clean_sort(sort)
    columns = _dashboard_columns()
    if sort.lstrip("-") in columns:
        clients = clients.annotate(**{sort.lstrip("-"): columns[sort.lstrip("-")]})
    return clients.order_by(*_ordering(sort))


def client_rows_with_counts(page_rows: QuerySet[Organization]) -> list[Organization]:
    """One page of `client_list_for_actor` with every dashboard figure, in its order.

    Two queries: the page's ids, then the figures of those ids. (Filtering on the page
    as a subquery and sorting again made Postgres compute the sort column for every
    client a second time.)
    """
    ids = list(page_rows.values_list("pk", flat=True))
    rows = Organization.objects.filter(pk__in=ids).annotate(**_dashboard_columns())
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids]


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
    """The dashboard's totals over every client the actor reaches, in one query.

    Each total is one aggregate over all the clients' rows, not a sum of per-client
    counts: a few index scans instead of one lookup per client and figure.
    """
    clients = client_scope_for_actor(actor=actor)
    members = Membership.objects.filter(org__in=clients.values("pk"))
    live_invitation = Invitation.objects.filter(
        membership=OuterRef("pk"), used_at__isnull=True, expires_at__gt=timezone.now()
    )
    devices = TOTPDevice.objects.filter(user=OuterRef("user_id"), confirmed=True)
    totals = {
        "clients": _aggregate(clients, "COUNT"),
        "seats": _aggregate(clients, "SUM", "seats"),
        "invited": _count(members.filter(status=MemberStatus.INVITED)),
        "accepted": _count(members.filter(status=MemberStatus.ACCEPTED)),
        "confirmed": _count(members.filter(status=MemberStatus.CONFIRMED)),
        "pending_invitations": _count(
            members.filter(Exists(live_invitation), status=MemberStatus.INVITED)
        ),
        "without_two_step": _count(members.filter(~Exists(devices), status=MemberStatus.CONFIRMED)),
    }
    # Hosted on the provider's own row; the aliases avoid its field names ("clients").
    row = (
        Provider.objects.filter(pk=actor.provider.pk)
        .annotate(**{f"total_{name}": expression for name, expression in totals.items()})
        .values(*(f"total_{name}" for name in totals))
        .get()
    )
    values = {name: row[f"total_{name}"] for name in totals}
    seats_used = values["invited"] + values["accepted"] + values["confirmed"]
    return ClientTotals(**values, seats_used=seats_used)


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
