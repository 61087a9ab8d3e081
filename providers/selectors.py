"""Reads for the provider portal, always scoped to the provider (and the actor's client scope).

The dashboard's and billing's per-client figures are stored, one row per client
(`clients.ClientFigures`, kept by database triggers in the transaction of each change):
a sorted page walks an index on (provider, figure, name) and the totals add one row per
client, however many members, devices, invitations and events the clients have. A page
costs the same number of queries with ten clients or ten thousand.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
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
from django.utils import timezone

from clients.models import MemberRole, MemberStatus, Organization, Plan, figure_sort_key
from portal.access import Capability, ProviderActor, is_provider_admin_role, resolve
from portal.events import in_date_range
from portal.models import Event, Invitation
from portal.pagination import PAGE_SIZE, Column
from portal.prepared import PreparedQuery, row_count

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
    return _confirmed_admins(provider.pk, _admin_roles())


def _admin_roles() -> list[str]:
    return [role for role in ProviderRole if is_provider_admin_role(role)]


def _confirmed_admins(provider_id, admin_roles: list[str]) -> QuerySet[ProviderUser]:
    return ProviderUser.objects.filter(
        provider=provider_id, role__in=admin_roles, status=ProviderUserStatus.CONFIRMED
    )


# Every provider page counts them (the failover banner): prepared (portal/prepared.py).
# The admin roles are an argument: the permission layer's answer, asked on each count.
_CONFIRMED_ADMIN_COUNT = PreparedQuery(
    lambda provider_id, admin_roles: row_count(_confirmed_admins(provider_id, admin_roles))
)


def confirmed_admin_count(*, provider: Provider) -> int:
    return _CONFIRMED_ADMIN_COUNT.first(provider.pk, _admin_roles())


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
    return _clients_in_scope(provider.pk, _internal_org_ids(provider), [])


def client_scope_for_actor(*, actor: ProviderActor) -> QuerySet[Organization]:
    """The provider's clients the actor reaches: all of them, or a service user's list.

    Every provider page that lists clients, counts them or shows their events starts
    here, so a client outside a service user's list is absent everywhere at once.
    """
    return _clients_in_scope(*_scope_of(actor))


def _internal_org_ids(provider: Provider) -> list:
    return [provider.internal_org_id] if provider.internal_org_id else []


def _scope_of(actor: ProviderActor) -> tuple:
    """The arguments of `_clients_in_scope` for the actor: ids only, so that the
    dashboard's queries can be prepared (portal/prepared.py) from them."""
    chosen_by = [] if actor.reaches_all_clients else [actor.provider_user.pk]
    return actor.provider.pk, _internal_org_ids(actor.provider), chosen_by


def _clients_in_scope(provider_id, internal_org: list, chosen_by: list) -> QuerySet[Organization]:
    """The provider's orgs but its internal team (`internal_org`: [] or [its id]); of
    those, a service user's list (`chosen_by`: [] or [the service user's staff row id]).
    Lists, so that a prepared query has one shape for each case (one per list length)."""
    clients = Organization.objects.filter(provider=provider_id)
    if internal_org:
        clients = clients.exclude(pk=internal_org[0])
    if chosen_by:
        clients = clients.filter(scoped_provider_users=chosen_by[0])
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


def _sorts_by_figure(sort: str) -> bool:
    key = sort.lstrip("-")
    return key in STORED_FIGURES or key == "last_activity"


def _ordering(sort: str) -> tuple:
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    if _sorts_by_figure(sort):
        # In the order of an index on (provider, figure, name, org): a page reads 25 of
        # its entries.
        stored = _STORED_AS.get(key, key)
        order = figure_sort_key(stored, descending=descending, prefix="figures__")
        return (*order, "figures__name", "figures__org_id")
    order = F(key).desc(nulls_last=True) if descending else F(key).asc(nulls_last=True)
    return (order, "name", "pk")


def _figures_joined(clients: QuerySet[Organization], provider_id) -> QuerySet[Organization]:
    # The same rows (each client's figures row copies its provider), named so that
    # Postgres walks the figure's index on (provider, figure, name) in order.
    return clients.filter(figures__provider=provider_id)


def _in_order(clients: QuerySet[Organization], provider_id, sort: str) -> QuerySet[Organization]:
    if _sorts_by_figure(sort):
        clients = _figures_joined(clients, provider_id)
    return clients.order_by(*_ordering(sort))


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
    return _in_order(clients, actor.provider.pk, clean_sort(sort))


def _unsearched_client_list(provider_id, internal_org, chosen_by, *, sort: str):
    return _in_order(_clients_in_scope(provider_id, internal_org, chosen_by), provider_id, sort)


def _client_count(provider_id, internal_org, chosen_by, *, figures_joined: bool) -> QuerySet:
    """The count of `_unsearched_client_list`: the same for every sort but for the join
    of a figure sort."""
    clients = _clients_in_scope(provider_id, internal_org, chosen_by)
    return row_count(_figures_joined(clients, provider_id) if figures_joined else clients)


def _client_page_ids(provider_id, internal_org, chosen_by, *, sort: str, offset: int):
    clients = _unsearched_client_list(provider_id, internal_org, chosen_by, sort=sort)
    return clients.values_list("pk", flat=True)[offset : offset + PAGE_SIZE]


# The dashboard's list, prepared (portal/prepared.py): building its queries cost several
# times what running them does. Shapes: a count per scope and join, a page of ids per
# scope, sort and page, for the first pages only (deeper ones and searches use the ORM).
_CLIENT_COUNT = PreparedQuery(_client_count)
_CLIENT_PAGE_IDS = PreparedQuery(_client_page_ids)
_PREPARED_PAGES = 2


class ClientIds:
    """The ids of `client_list_for_actor`, for `paginate` (a sliceable with a `count()`).

    Unsearched, the count and the first pages are prepared queries; with a search (a
    pattern is no plain parameter) or deeper, they are the ORM's queryset's.
    """

    def __init__(self, *, actor: ProviderActor, search: str = "", sort: str = DEFAULT_SORT):
        self._actor, self._search, self._sort = actor, search, clean_sort(sort)
        self._scope = _scope_of(actor)

    def _queryset(self) -> QuerySet[Organization]:
        return client_list_for_actor(actor=self._actor, search=self._search, sort=self._sort)

    def count(self) -> int:
        if self._search:
            return self._queryset().count()
        return _CLIENT_COUNT.first(*self._scope, figures_joined=_sorts_by_figure(self._sort))

    @property
    def keyset_order(self) -> list[Column]:
        """`_ordering(sort)` as columns, for portal.pagination to read a page from a row
        on (a figure sort: the figure, name and id of the figures row)."""
        key, descending = self._sort.lstrip("-"), self._sort.startswith("-")
        if _sorts_by_figure(self._sort):
            figure = f"figures__{_STORED_AS.get(key, key)}"
            return [
                Column(figure, descending, nullable=key == "last_activity"),
                Column("figures__name", descending=False),
                Column("figures__org_id", descending=False),
            ]
        if key == "name":
            return [Column("name", descending), Column("id", descending=False)]
        return [
            Column(key, descending),
            Column("name", descending=False),
            Column("id", descending=False),
        ]

    def in_order(self) -> QuerySet:
        """The ids as a queryset in `keyset_order`, for a page read from a row."""
        return self._queryset().values_list("pk", flat=True)

    def __getitem__(self, rows: slice) -> list:
        start, stop = rows.start or 0, rows.stop
        if stop <= start:  # no client: no query, as for an empty slice of a queryset
            return []
        if self._search or start >= _PREPARED_PAGES * PAGE_SIZE or stop - start > PAGE_SIZE:
            return list(self._queryset()[rows].values_list("pk", flat=True))
        # A full page's LIMIT whatever the count (one shape per page): the last is shorter.
        return _CLIENT_PAGE_IDS.fetch(*self._scope, sort=self._sort, offset=start)[: stop - start]


def client_ids_for_actor(
    *, actor: ProviderActor, search: str = "", sort: str = DEFAULT_SORT
) -> ClientIds:
    """`client_list_for_actor`'s ids, to paginate, then `client_rows_with_counts`."""
    return ClientIds(actor=actor, search=search, sort=sort)


def _page_columns() -> dict:
    """The dashboard's per-client figures, by the name of their column: the stored ones
    (pending invitations recounted first where a link ran out: see the view), and the
    exact last activity."""
    return {
        **{name: F(f"figures__{_STORED_AS.get(name, name)}") for name in STORED_FIGURES},
        "last_activity": _last_activity(),
    }


def _client_rows(ids: list) -> QuerySet[Organization]:
    rows = Organization.objects.filter(pk__in=ids).annotate(**_page_columns())
    # The baseline column: the baseline's name and the drift, not the settings compared.
    rows = rows.select_related("baseline_assignment__baseline")
    return rows.defer(
        "baseline_assignment__applied_settings", "baseline_assignment__baseline__settings"
    )


_CLIENT_ROWS = PreparedQuery(_client_rows)  # one shape per page length


def client_rows_with_counts(page_rows: QuerySet[Organization] | list) -> list[Organization]:
    """One page of `client_list_for_actor` (its ids, or the queryset) with every
    dashboard figure, in its order.

    Two queries: the page's ids, then the figures of those ids. (Filtering on the page
    as a subquery and sorting again made Postgres compute the sort column for every
    client a second time.)
    """
    if isinstance(page_rows, QuerySet):
        page_rows = page_rows.values_list("pk", flat=True)
    ids = list(page_rows)
    by_id = {row.pk: row for row in _CLIENT_ROWS.fetch(ids)}
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


_TOTALS = tuple(field.name for field in fields(ClientTotals))


def _totals(provider_id, internal_org, chosen_by) -> QuerySet:
    """One row: the fields of `ClientTotals`, summed over the clients in scope. Plain SQL
    functions rather than aggregates, so that it is a query of rows to prepare (with no
    GROUP BY, the same single row as `aggregate()`)."""

    def total(function: str, column: str) -> Func:
        return Func(F(column), function=function, output_field=IntegerField())

    stored = ("seats_used", "invited", "accepted", "confirmed", "pending_invitations")
    sums = {
        "clients": total("COUNT", "pk"),
        "seats": total("SUM", "seats"),
        **{name: total("SUM", f"figures__{_STORED_AS.get(name, name)}") for name in stored},
        "without_two_step": total("SUM", "figures__without_two_step"),
    }  # the fields of ClientTotals
    clients = _clients_in_scope(provider_id, internal_org, chosen_by).order_by()
    clients = clients.annotate(**{f"total_{name}": value for name, value in sums.items()})
    return clients.values_list(*(f"total_{name}" for name in _TOTALS))


_CLIENT_TOTALS = PreparedQuery(_totals)


def client_totals_for_actor(*, actor: ProviderActor) -> ClientTotals:
    """The dashboard's totals over every client the actor reaches, in one query.

    Sums of the clients' stored figures: one row per client, however many members,
    devices or invitations each has.
    """
    (row,) = _CLIENT_TOTALS.fetch(*_scope_of(actor))
    return ClientTotals(**{name: value or 0 for name, value in zip(_TOTALS, row, strict=True)})


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
