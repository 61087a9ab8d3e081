"""The dashboard's prepared queries (portal/prepared.py) find what the ORM's querysets
find, for every scope, sort and page, and its rows show what the template filters would."""

from datetime import timedelta

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma, naturaltime
from django.db.models import Count, Sum
from django.template.defaultfilters import date
from django.urls import reverse
from django.utils import timezone

from clients.models import Organization
from portal.pagination import PAGE_SIZE
from providers import selectors
from tests import factories
from tests.paging import link, page_queries, row_ids, walk

from .helpers import provider_actor, provider_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(world):
    """More clients than the prepared pages hold, with figures that differ, an internal
    team, and a service user limited to some of them."""
    made = [world.org]
    for n in range(selectors._PREPARED_PAGES * PAGE_SIZE + 7):
        org = factories.OrganizationFactory(
            name=f"Client {n % 9} {n:03d}", seats=1 + n % 4, provider=world.provider
        )
        for _ in range(n % 3):
            factories.MembershipFactory(org=org)
        if n % 5:
            factories.EventFactory(org=org, occurred_at=timezone.now() - timedelta(hours=n))
        made.append(org)
    world.provider.internal_org = factories.OrganizationFactory(provider=world.provider)
    world.provider.save()
    service = world.provider.provider_users.get(user=world.service_user)
    service.access_all_clients = False
    service.save()
    service.client_scope.add(*made[::3])
    return made


def _actors(world):
    return [
        provider_actor(world.provider_admin, world.provider),
        provider_actor(world.service_user, world.provider),  # limited to a list
    ]


@pytest.mark.parametrize("sort", ["name", "-name", "plan", "-seats", "confirmed", "-last_activity"])
def test_the_prepared_list_counts_and_pages_as_the_queryset(world, clients, sort):
    for actor in _actors(world):
        expected = list(
            selectors.client_list_for_actor(actor=actor, sort=sort).values_list("pk", flat=True)
        )
        ids = selectors.client_ids_for_actor(actor=actor, sort=sort)
        assert ids.count() == len(expected)
        for start in range(0, len(expected) + PAGE_SIZE, PAGE_SIZE):  # prepared, then ORM
            stop = min(start + PAGE_SIZE, len(expected))
            assert ids[start:stop] == expected[start:stop], (actor, sort, start)


def test_a_searched_list_is_the_querysets(world, clients):
    actor = provider_actor(world.provider_admin, world.provider)
    ids = selectors.client_ids_for_actor(actor=actor, search="client 3", sort="-seats")
    expected = selectors.client_list_for_actor(actor=actor, search="client 3", sort="-seats")
    assert ids.count() == expected.count() > 0
    assert ids[0:PAGE_SIZE] == list(expected[0:PAGE_SIZE].values_list("pk", flat=True))


def test_the_prepared_totals_are_the_aggregates(world, clients):
    for actor in _actors(world):
        scope = selectors.client_scope_for_actor(actor=actor).order_by()
        expected = scope.aggregate(
            clients=Count("pk"),
            seats=Sum("seats"),
            seats_used=Sum("figures__seats_used"),
            invited=Sum("figures__invited"),
            accepted=Sum("figures__accepted"),
            confirmed=Sum("figures__confirmed"),
            pending_invitations=Sum("figures__invitations_pending"),
            without_two_step=Sum("figures__without_two_step"),
        )
        totals = selectors.client_totals_for_actor(actor=actor)
        assert totals == selectors.ClientTotals(**{k: v or 0 for k, v in expected.items()})
        assert totals.clients == scope.count() > 0


def test_totals_of_no_client_are_zeros(world):
    service = world.provider.provider_users.get(user=world.service_user)
    service.access_all_clients = False
    service.save()
    actor = provider_actor(world.service_user, world.provider)
    assert selectors.client_totals_for_actor(actor=actor) == selectors.ClientTotals(
        0, 0, 0, 0, 0, 0, 0, 0
    )
    ids = selectors.client_ids_for_actor(actor=actor)
    assert ids.count() == 0 and ids[0:0] == []


def test_rows_show_the_links_and_times_the_template_tags_would(world, login, clients):
    response = login(world.provider_admin).get(provider_url("provider_dashboard", world.provider))
    content = response.content.decode()
    rows = response.context["page"].object_list
    assert len(rows) == PAGE_SIZE
    for client in rows:
        overview = reverse("org_overview", args=[client.pk])
        edit = reverse("provider_client_edit", args=[world.provider.pk, client.pk])
        assert f'<a href="{overview}">{client.name}</a>' in content
        assert f'<a href="{edit}" aria-label="Edit {client.name}">Edit</a>' in content
        if client.last_activity:
            assert (
                f'<time datetime="{date(client.last_activity, "c")}" '
                f'title="{date(client.last_activity, "Y-m-d H:i")}">'
                f"{naturaltime(client.last_activity)}</time>"
            ) in content
    assert {client.last_activity is None for client in rows} == {True, False}


def test_rows_write_figures_as_intcomma_would(world, login):
    world.org.seats = 12345
    world.org.save()
    response = login(world.provider_admin).get(provider_url("provider_dashboard", world.provider))
    clients = response.context["page"].object_list
    [(client, row)] = [
        (c, row)
        for c, row in zip(clients, response.context["rows"], strict=True)
        if c.pk == world.org.pk
    ]

    assert intcomma(12345) == "12,345"
    assert f'<td class="num">{intcomma(client.seats_used)} of 12,345</td>' in row
    assert f"<td>{intcomma(client.confirmed)} confirmed" in row
    assert f'<td class="num">{intcomma(client.pending_invitations)}</td>' in row
    assert f'<td class="num">{intcomma(client.policies_enabled)}' in row
    assert f'">{intcomma(client.without_two_step)}</td>' in row


@pytest.mark.parametrize(
    "sort",
    ["name", "-name", "seats_used", "-confirmed", "plan", "-seats"]
    + ["last_activity", "-last_activity"],
)
def test_next_and_previous_walk_the_pages_their_numbers_show(world, login, clients, sort):
    """Next and Previous carry the row they continue from (portal/pagination.py): the
    dashboard reads such a page from that row on in its sort's order, and shows the same
    clients as the page of that number. The last activity sorts clients without any
    last, either way: the walk crosses from dated clients to those without a date."""
    client = login(world.provider_admin)
    url = provider_url("provider_dashboard", world.provider)
    forward = walk(client, url, "next", start=f"?sort={sort}")
    numbered = [
        (n, row_ids(client.get(f"{url}?sort={sort}&page={n}"))) for n in range(1, len(forward) + 1)
    ]
    assert forward == numbered and len(forward) == 3
    walked = [pk for _n, rows in forward for pk in rows]
    assert (
        len(walked)
        == len(set(walked))
        == selectors.client_ids_for_actor(
            actor=provider_actor(world.provider_admin, world.provider)
        ).count()
    )
    second = link(client.get(f"{url}?sort={sort}&page=2"), "next")
    assert "&after=" in second
    by_number, from_row = page_queries(client, f"{url}?sort={sort}&page=3", url + second)
    assert any("OFFSET" in sql for sql in by_number)
    assert not any("OFFSET" in sql for sql in from_row)  # read from the row on
    last = link(client.get(url + second), "prev")
    assert walk(client, url, "prev", start=last) == numbered[1::-1]
    if "last_activity" in sort:
        when = dict(
            Organization.objects.filter(pk__in=walked).values_list("pk", "figures__last_activity")
        )
        undated = {pk for pk in walked if when[pk] is None}
        assert undated and set(walked[-len(undated) :]) == undated  # last, either way


@pytest.mark.parametrize("sort", ["name", "-last_activity", "without_two_step"])
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_client_of_another_provider_is_no_place_to_start(world, login, clients, sort, direction):
    """Its id gives the page of the number: the row must be in the actor's own list, so
    nothing of where another provider's client sorts shows (whatever its NULLs)."""
    client = login(world.provider_admin)
    url = provider_url("provider_dashboard", world.provider)
    expected = row_ids(client.get(f"{url}?sort={sort}&page=2"))
    response = client.get(f"{url}?sort={sort}&page=2&{direction}={world.other_org.pk}")
    assert row_ids(response) == expected
    assert world.other_org.pk not in row_ids(response)
