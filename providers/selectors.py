"""Reads for the provider portal, always scoped to the provider (and the actor's client scope).

The dashboard's and billing's per-client figures are stored, one row per client
(`clients.ClientFigures`, kept by database triggers in the transaction of each change):
a sorted page walks an index on (provider, figure, name) and the totals add one row per
client, however many members, devices, invitations and events the clients have. A page
costs the same number of queries with ten clients or ten thousand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone

from clients.models import MemberRole, MemberStatus, Organization, Plan, figure_sort_key
from portal.access import Capability, ProviderActor, is_provider_admin_role, resolve
from portal.events import in_date_range
from portal.models import Event, Invitation

from .models import Provider, ProviderRole, ProviderUser, ProviderUserStatus


def provider_list_for_user(user) -> QuerySet[Provider]:
    return Provider.objects.filter(
        enabled=True,
        provider_users__user=user,
        provider_users__status=ProviderUserStatus.CONFIRMED,
    ).order_by("name")


def confirmed_admins(*, provider: Provider) -> QuerySet[ProviderUser]:
    """The provider's confirmed provider admins: the rows the rule of at least one counts.

    Which roles are admin roles is the permission layer's decision, not this module's.
    """
    admin_roles = [role for role in ProviderRole if is_provider_admin_role(role)]
    return ProviderUser.objects.filter(
        provider=provider, role__in=admin_roles, status=ProviderUserStatus.CONFIRMED
    )


def confirmed_admin_count(*, provider: Provider) -> int:
    return confirmed_admins(provider=provider).count()


def provider_user_list(*, provider: Provider, search: str = "") -> QuerySet[ProviderUser]:
    """The provider's staff; for an invitee, whether their emailed link still works."""
    live_invitation = Invitation.objects.filter(
        provider_user=OuterRef("pk"), used_at__isnull=True, expires_at__gt=timezone.now()
    )
    users = provider.provider_users.select_related("user").annotate(
        scoped_client_count=Count("client_scope"), invitation_live=Exists(live_invitation)
    )
    if search:
        term = search.strip()
        users = users.filter(Q(email__icontains=term) | Q(user__name__icontains=term))
    return users.order_by("email", "pk")


def provider_staff_users(*, provider: Provider):
    """Accounts of the provider's staff, for the event log's user filter."""
    return get_user_model().objects.filter(provider_users__provider=provider).order_by("email")


# --- Clients ---------------------------------------------------------------------------


def provider_clients(*, provider: Provider) -> QuerySet[Organization]:
    """The provider's clients: its orgs without its internal team, which is not a client."""
    clients = Organization.objects.filter(provider=provider)
    if provider.internal_org_id:
        clients = clients.exclude(pk=provider.internal_org_id)
    return clients


def client_scope_for_actor(*, actor: ProviderActor) -> QuerySet[Organization]:
    """The provider's clients the actor reaches: all of them, or a service user's list.

    Every provider page that lists clients, counts them or shows their events starts
    here, so a client outside a service user's list is absent everywhere at once.
    """
    clients = provider_clients(provider=actor.provider)
    if not actor.reaches_all_clients:
        clients = clients.filter(scoped_provider_users=actor.provider_user)
    return clients


# The dashboard's columns stored per client (`clients.ClientFigures`, kept by database
# triggers), each with an index on (provider, figure, name) either way for sorted pages;
# the last activity is stored too, to the minute, as a sort key.
STORED_FIGURES = (
    "pending_invitations",
    "invited",
    "accepted",
    "confirmed",
    "revoked",
    "seats_used",
    "without_two_step",
    "policies_enabled",
)
_STORED_AS = {"pending_invitations": "invitations_pending"}


def _last_activity() -> Subquery:
    """The org's newest event, exact (one step down the index on (org, -occurred_at))."""
    last_event = Event.objects.filter(org=OuterRef("pk")).order_by("-occurred_at")
    return Subquery(last_event.values("occurred_at")[:1])


# Dashboard columns a visitor may sort on: ?sort=<key> ascending, ?sort=-<key> descending.
DASHBOARD_SORTS = {
    "name": "Client name",
    "plan": "Plan",
    "seats": "Seats assigned",
    "seats_used": "Seats used",
    "confirmed": "Confirmed members",
    "accepted": "Members to confirm",
    "invited": "Invited members",
    "revoked": "Revoked members",
    "pending_invitations": "Pending invitations",
    "policies_enabled": "Policies on",
    "without_two_step": "Members without two-step login",
    "last_activity": "Last activity",
}
DEFAULT_SORT = "name"


def clean_sort(sort: str | None) -> str:
    """The requested sort if it names a sortable column, else the default."""
    return sort if sort and sort.lstrip("-") in DASHBOARD_SORTS else DEFAULT_SORT


def _ordering(sort: str) -> tuple:
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    if key in STORED_FIGURES or key == "last_activity":
        # In the order of an index on (provider, figure, name, org): a page reads 25 of
        # its entries.
        stored = _STORED_AS.get(key, key)
        order = figure_sort_key(stored, descending=descending, prefix="figures__")
        return (*order, "figures__name", "figures__org_id")
    order = F(key).desc(nulls_last=True) if descending else F(key).asc(nulls_last=True)
    return (order, "name", "pk")


def client_list_for_actor(
    *, actor: ProviderActor, search: str = "", sort: str = DEFAULT_SORT
) -> QuerySet[Organization]:
    """The clients the actor may see, searched and sorted, to paginate.

    A figure sort reads the stored figures (`clients.ClientFigures`) in the order of
    their index on (provider, figure, name), never the memberships, events or devices:
    a page reads its own rows (and those of the pages before it). The page's figures
    come from `client_rows_with_counts`, for the page's rows alone.
    """
    clients = client_scope_for_actor(actor=actor)
    if search:
        clients = clients.filter(name__icontains=search.strip())
    sort = clean_sort(sort)
    key = sort.lstrip("-")
    if key in STORED_FIGURES or key == "last_activity":
        # The same rows (each client's figures row copies its provider), named so that
        # Postgres walks the figure's index on (provider, figure, name) in order.
        clients = clients.filter(figures__provider=actor.provider)
    return clients.order_by(*_ordering(sort))


def _page_columns() -> dict:
    """The dashboard's per-client figures, by the name of their column: the stored ones
    (pending invitations recounted first where a link ran out: see the view), and the
    exact last activity."""
    return {
        **{name: F(f"figures__{_STORED_AS.get(name, name)}") for name in STORED_FIGURES},
        "last_activity": _last_activity(),
    }


def client_rows_with_counts(page_rows: QuerySet[Organization]) -> list[Organization]:
    """One page of `client_list_for_actor` with every dashboard figure, in its order.

    Two queries: the page's ids, then the figures of those ids. (Filtering on the page
    as a subquery and sorting again made Postgres compute the sort column for every
    client a second time.)
    """
    ids = list(page_rows.values_list("pk", flat=True))
    rows = Organization.objects.filter(pk__in=ids).annotate(**_page_columns())
    rows = rows.select_related("baseline_assignment__baseline")  # the baseline column
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

    @property
    def expired_invitations(self) -> int:
        """Invited members whose every link has expired: to resend from the members page."""
        return max(self.invited - self.pending_invitations, 0)


def client_totals_for_actor(*, actor: ProviderActor) -> ClientTotals:
    """The dashboard's totals over every client the actor reaches, in one query.

    Sums of the clients' stored figures: one row per client, however many members,
    devices or invitations each has.
    """
    clients = client_scope_for_actor(actor=actor)
    stored = ("seats_used", "invited", "accepted", "confirmed", "pending_invitations")
    sums = {
        "clients": Count("pk"),
        "seats": Sum("seats"),
        **{name: Sum(f"figures__{_STORED_AS.get(name, name)}") for name in stored},
        "without_two_step": Sum("figures__without_two_step"),
    }  # the fields of ClientTotals
    row = clients.order_by().aggregate(**sums)
    return ClientTotals(**{name: row[name] or 0 for name in sums})


def has_confirmed_owner(*, org: Organization) -> bool:
    """Whether the org has a confirmed owner of its own: someone who runs it without the
    provider (the rule for unlinking: every org keeps at least one confirmed owner)."""
    return org.memberships.filter(role=MemberRole.OWNER, status=MemberStatus.CONFIRMED).exists()


def user_may_add_org(user, org: Organization) -> bool:
    """Whether `user` may put `org` under a provider: it decides who manages the org, an
    owner's setting (the permission layer's `ORG_SETTINGS`), and no provider has it yet."""
    if org.provider_id is not None or hasattr(org, "internal_of_provider"):
        return False
    actor = resolve(user, org)
    return actor is not None and actor.can(Capability.ORG_SETTINGS)


def addable_orgs_for_user(user) -> QuerySet[Organization]:
    """Orgs the user may bring under a provider (see `user_may_add_org`)."""
    candidates = Organization.objects.filter(
        memberships__user=user,
        memberships__status=MemberStatus.CONFIRMED,
        provider__isnull=True,
        internal_of_provider__isnull=True,
    ).distinct()
    # Few rows (the orgs one person belongs to), each asked of the permission layer.
    addable = [org.pk for org in candidates if user_may_add_org(user, org)]
    return Organization.objects.filter(pk__in=addable).order_by("name", "pk")


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


def _with_seats(orgs: QuerySet[Organization]) -> QuerySet[Organization]:
    """Each org with its seats used, as the dashboard counts them (`ClientFigures`)."""
    return orgs.annotate(seats_used=F("figures__seats_used")).annotate(
        seats_remaining=F("seats") - F("seats_used")
    )


def billing_rows(*, clients: QuerySet[Organization], search: str = "") -> QuerySet[Organization]:
    """Each of `clients` (`provider_clients` or `client_scope_for_actor`) with its seats."""
    if search:
        clients = clients.filter(name__icontains=search.strip())
    return _with_seats(clients).order_by("name", "pk")


def billing_totals(*, clients: QuerySet[Organization]) -> list[PlanTotals]:
    """Clients, seats assigned and seats used per plan (one query)."""
    rows = billing_rows(clients=clients).order_by().values("plan")
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
    return _with_seats(Organization.objects.filter(pk=provider.internal_org_id)).first()


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
    clients: QuerySet[Organization],
    start: date | None = None,
    end: date | None = None,
    client: Organization | None = None,
) -> QuerySet[Event]:
    """The event logs of `clients` (the clients the actor reaches), merged. A client
    that was unlinked takes its log with it."""
    events = Event.objects.filter(org__in=clients.values("pk"))
    events = events.select_related("actor", "org", "acting_provider")
    events = in_date_range(events, start=start, end=end)
    if client is not None:
        events = events.filter(org=client)
    return events.order_by("-occurred_at", "-id")
