"""The cross-client dashboard: per-client health, totals, search, sort, pagination, queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.models import MemberStatus, Plan
from policies.models import PolicyType
from portal.models import EventType
from portal.services import invitation_create
from providers.selectors import DASHBOARD_SORTS
from tests import factories

from .helpers import provider_url

pytestmark = pytest.mark.django_db


def dashboard(client, provider, **params):
    return client.get(provider_url("provider_dashboard", provider), params)


def row_for(response, name):
    return next(c for c in response.context["page"].object_list if c.name == name)


def test_per_client_counts(world, login):
    org = world.org
    invited = factories.MembershipFactory(org=org, user=None, email="i@a.test", status="invited")
    invitation_create(email="i@a.test", membership=invited)
    factories.MembershipFactory(org=org, status=MemberStatus.ACCEPTED)
    factories.MembershipFactory(org=org, status=MemberStatus.REVOKED)
    factories.PolicyFactory(org=org, type=PolicyType.TWO_STEP_LOGIN, enabled=True)
    factories.PolicyFactory(org=org, type=PolicyType.SINGLE_ORG, enabled=False)
    TOTPDevice.objects.create(user=world.alice, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=world.bob, name="unconfirmed", confirmed=False)
    factories.EventFactory(org=org, type=EventType.MEMBER_UPDATED)
    response = dashboard(login(world.provider_admin), world.provider)
    row = row_for(response, "Alice Co")
    assert (row.confirmed, row.accepted, row.invited, row.revoked) == (4, 1, 1, 1)
    assert (row.seats, row.seats_used) == (10, 6)
    assert row.pending_invitations == 1
    assert row.policies_enabled == 1
    assert row.without_two_step == 3  # four confirmed members, only alice has a device
    assert row.last_activity is not None
    assert b"Other Co" not in response.content


def test_expired_or_used_invitations_are_not_pending(world, login):
    member = factories.MembershipFactory(
        org=world.org, user=None, email="x@a.test", status="invited"
    )
    factories.InvitationFactory(membership=member, expires_at=timezone.now() - timedelta(days=1))
    factories.InvitationFactory(membership=member, used_at=timezone.now())
    row = row_for(dashboard(login(world.provider_admin), world.provider), "Alice Co")
    assert row.pending_invitations == 0


def test_totals_cover_every_client_not_just_the_page(world, login):
    for n in range(30):
        org = factories.OrganizationFactory(
            name=f"Client {n:02d}", seats=3, provider=world.provider
        )
        factories.MembershipFactory(org=org)
    factories.OrganizationFactory(name="Theirs", seats=500, provider=world.other_provider)
    response = dashboard(login(world.provider_admin), world.provider)
    totals = response.context["totals"]
    assert totals.clients == 31
    assert totals.seats == 10 + 30 * 3
    assert totals.confirmed == 4 + 30
    assert totals.seats_used == 4 + 30
    assert len(response.context["page"].object_list) == 25


def test_internal_team_is_shown_apart_and_not_counted(world, login):
    team = factories.OrganizationFactory(name="Our Team", provider=world.provider)
    world.provider.internal_org = team
    world.provider.save()
    response = dashboard(login(world.provider_admin), world.provider)
    assert response.context["totals"].clients == 1
    assert [c.name for c in response.context["page"].object_list] == ["Alice Co"]
    assert b"Your internal team" in response.content and b"Our Team" in response.content


@pytest.fixture
def small_and_big(world):
    """Two clients where "Sort Zzz" is ahead of "Sort Aaa" on every dashboard column."""
    small = factories.OrganizationFactory(
        name="Sort Aaa", plan=Plan.ENTERPRISE, seats=5, provider=world.provider
    )
    member = factories.MembershipFactory(org=small)
    TOTPDevice.objects.create(user=member.user, name="phone", confirmed=True)
    factories.EventFactory(org=small, occurred_at=timezone.now() - timedelta(days=2))
    big = factories.OrganizationFactory(
        name="Sort Zzz", plan=Plan.TEAMS, seats=50, provider=world.provider
    )
    for status in ["confirmed"] * 3 + ["accepted"] + ["invited"] * 2 + ["revoked"]:
        factories.MembershipFactory(org=big, status=status)
    invited = big.memberships.filter(status="invited").first()
    invitation_create(email=invited.email, membership=invited)
    factories.PolicyFactory(org=big, enabled=True)
    factories.EventFactory(org=big)
    return small, big


# The columns with a sortable header; the other sorts stay valid in links.
HEADER_SORTS = {
    "name",
    "seats_used",
    "confirmed",
    "pending_invitations",
    "policies_enabled",
    "without_two_step",
    "last_activity",
}


@pytest.mark.parametrize("sort", sorted(DASHBOARD_SORTS))
def test_every_column_sorts_both_ways(world, login, small_and_big, sort):
    client = login(world.provider_admin)
    for direction, expected in (
        (sort, ["Sort Aaa", "Sort Zzz"]),
        (f"-{sort}", ["Sort Zzz", "Sort Aaa"]),
    ):
        response = dashboard(client, world.provider, sort=direction, q="Sort ")
        assert response.context["sort"] == direction
        assert [c.name for c in response.context["page"].object_list] == expected, direction
        # The column's header says how the table is sorted (no sort drop-down besides).
        if sort in HEADER_SORTS:
            order = "descending" if direction.startswith("-") else "ascending"
            assert f'aria-sort="{order}"'.encode() in response.content
        assert b'<select id="sort"' not in response.content


def test_sort_orders_rows_and_unknown_sorts_fall_back_to_name(world, login):
    factories.OrganizationFactory(name="Bigger", seats=50, provider=world.provider)
    client = login(world.provider_admin)
    names = lambda response: [c.name for c in response.context["page"].object_list]  # noqa: E731
    assert names(dashboard(client, world.provider, sort="-seats")) == ["Bigger", "Alice Co"]
    assert names(dashboard(client, world.provider, sort="seats")) == ["Alice Co", "Bigger"]
    assert names(dashboard(client, world.provider, sort="-confirmed")) == ["Alice Co", "Bigger"]
    forged = dashboard(client, world.provider, sort="password; DROP TABLE")
    assert forged.status_code == 200 and forged.context["sort"] == "name"
    assert names(forged) == ["Alice Co", "Bigger"]


def test_sort_survives_pagination_and_search_survives_sort_links(world, login):
    for n in range(30):
        factories.OrganizationFactory(name=f"Client {n:02d}", provider=world.provider)
    client = login(world.provider_admin)
    response = dashboard(client, world.provider, sort="-name")
    assert b"sort=-name&amp;page=2" in response.content
    searched = dashboard(client, world.provider, q="Client 1")
    assert b"?q=Client%201&amp;sort=seats_used" in searched.content
    # Searching from the sorted page keeps the sort: it is in the same form.
    sorted_page = dashboard(client, world.provider, sort="-confirmed").content.decode()
    form = sorted_page[
        sorted_page.index('role="search"') : sorted_page.index(
            "</form>", sorted_page.index('role="search"')
        )
    ]
    assert 'name="q"' in form and '<input type="hidden" name="sort" value="-confirmed">' in form


def test_search_and_pagination(world, login):
    for n in range(30):
        factories.OrganizationFactory(name=f"Client {n:02d}", provider=world.provider)
    client = login(world.provider_admin)
    assert b"Page 1 of 2" in dashboard(client, world.provider).content
    page2 = dashboard(client, world.provider, page=2)
    assert len(page2.context["page"].object_list) == 6
    searched = dashboard(client, world.provider, q="client 2")
    assert {c.name for c in searched.context["page"].object_list} == {
        f"Client {n}" for n in range(20, 30)
    }


def _dashboard_queries(client, provider, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = dashboard(client, provider, **params)
    assert response.status_code == 200
    return len(queries.captured_queries)


def _add_clients(provider, count, members_each=3):
    for _ in range(count):
        org = factories.OrganizationFactory(provider=provider)
        for _ in range(members_each):
            member = factories.MembershipFactory(org=org)
            factories.EventFactory(org=org)
            TOTPDevice.objects.create(user=member.user, name="p", confirmed=True)
        factories.PolicyFactory(org=org)


# Session, user, provider with the staff row, the clients due a recount of their pending
# invitations (none), admin count (banner), page count, the
# page's ids, their figures, the totals. Pinned: it must not grow with clients or members.
DASHBOARD_QUERIES = 9


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "org"},
        {"page": "2"},
        *({"sort": f"-{key}"} for key in sorted(DASHBOARD_SORTS)),
        {"sort": "pending_invitations", "page": "2"},
    ],
)
def test_dashboard_queries_do_not_grow_with_clients_or_members(world, login, params):
    """3 clients, then 30 (more than a page): the same queries, each sort and page 2."""
    client = login(world.provider_admin)
    _add_clients(world.provider, 2, members_each=1)
    small = _dashboard_queries(client, world.provider, **params)
    _add_clients(world.provider, 28, members_each=5)
    large = _dashboard_queries(client, world.provider, **params)
    assert small == large == DASHBOARD_QUERIES


def test_service_user_dashboard_queries_are_pinned_too(world, login):
    service = world.provider.provider_users.get(user=world.service_user)
    service.access_all_clients = False
    service.save()
    service.client_scope.add(world.org)
    client = login(world.service_user)
    small = _dashboard_queries(client, world.provider)
    _add_clients(world.provider, 20)
    for org in world.provider.clients.all()[:10]:
        service.client_scope.add(org)
    large = _dashboard_queries(client, world.provider)
    assert small == large == DASHBOARD_QUERIES - 1  # no failover banner to count for


def test_dashboard_queries_stay_constant_with_an_internal_team(world, login):
    world.provider.internal_org = factories.OrganizationFactory(provider=world.provider)
    world.provider.save()
    client = login(world.provider_admin)
    small = _dashboard_queries(client, world.provider)
    _add_clients(world.provider, 20)
    assert _dashboard_queries(client, world.provider) == small == DASHBOARD_QUERIES + 1


# --- Service users limited to chosen clients --------------------------------------------


@pytest.fixture
def scoped_service_user(world):
    """The service user, limited to a second client; world.org is outside its list."""
    second = factories.OrganizationFactory(name="Second Client", seats=7, provider=world.provider)
    factories.MembershipFactory(org=second)
    service = world.provider.provider_users.get(user=world.service_user)
    service.access_all_clients = False
    service.save()
    service.client_scope.add(second)
    return service


def test_scoped_service_user_totals_count_only_their_clients(world, login, scoped_service_user):
    team = factories.OrganizationFactory(name="Our Team", provider=world.provider)
    world.provider.internal_org = team
    world.provider.save()
    response = dashboard(login(world.service_user), world.provider)
    totals = response.context["totals"]
    assert (totals.clients, totals.seats, totals.confirmed, totals.seats_used) == (1, 7, 1, 1)
    assert [c.name for c in response.context["page"].object_list] == ["Second Client"]
    # Neither the client outside the list nor the internal team it cannot enter is named.
    assert b"Alice Co" not in response.content and b"Our Team" not in response.content
    # The admin sees both clients and the internal team.
    admin_view = dashboard(login(world.provider_admin), world.provider)
    assert admin_view.context["totals"].clients == 2 and b"Our Team" in admin_view.content


def test_scoped_service_user_without_clients_is_told_why_the_list_is_empty(
    world, login, scoped_service_user
):
    scoped_service_user.client_scope.clear()
    response = dashboard(login(world.service_user), world.provider)
    assert response.context["totals"].clients == 0
    assert b"You have not been given any clients yet" in response.content


def test_the_totals_say_distinct_things(world, login):
    """ "To confirm" counts accepted members; "Invitations" the links that still work and
    those that expired (invited members whose link ran out)."""
    from datetime import timedelta

    from django.utils import timezone

    from clients.models import MemberStatus

    factories.MembershipFactory(org=world.org, status=MemberStatus.ACCEPTED)
    live = factories.MembershipFactory(
        org=world.org, user=None, email="live@x.test", status=MemberStatus.INVITED
    )
    factories.InvitationFactory(membership=live, email="live@x.test")
    old = factories.MembershipFactory(
        org=world.org, user=None, email="old@x.test", status=MemberStatus.INVITED
    )
    factories.InvitationFactory(
        membership=old, email="old@x.test", expires_at=timezone.now() - timedelta(days=1)
    )
    response = dashboard(login(world.provider_admin), world.provider)
    totals = response.context["totals"]
    assert (totals.accepted, totals.pending_invitations, totals.expired_invitations) == (1, 1, 1)
    content = response.content.decode()
    assert "Awaiting" not in content
    assert "<dt>To confirm</dt><dd>1 " in content
    assert '<dt>Invitations</dt><dd>1 pending, <span class="warn">1 expired</span>' in content
    assert '<select id="sort"' not in content


def test_a_link_that_runs_out_later_is_counted_expired_without_any_write(world, login):
    """Pending invitations change with time alone: the dashboard recounts the clients
    whose stored count was due to change before it reads them."""
    from unittest import mock

    member = factories.MembershipFactory(
        org=world.org, user=None, email="soon@x.test", status=MemberStatus.INVITED
    )
    factories.InvitationFactory(membership=member, expires_at=timezone.now() + timedelta(hours=1))
    client = login(world.provider_admin)
    assert dashboard(client, world.provider).context["totals"].pending_invitations == 1
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=2)):
        response = dashboard(client, world.provider)
    totals = response.context["totals"]
    assert (totals.pending_invitations, totals.expired_invitations) == (0, 1)
    assert row_for(response, "Alice Co").pending_invitations == 0
