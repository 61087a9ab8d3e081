"""portal/pagination.py: Next and Previous carry the row they continue from, and a page
reached through them is read from that row on (no OFFSET), with the same rows as the page
of that number, within the list's own rows only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Membership
from clients.selectors.members import member_list
from portal.models import Event
from portal.pagination import PAGE_SIZE, Column, _keyset_order
from tests import factories
from tests.paging import link, page_queries, row_ids, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_members(world):
    for n in range(2 * PAGE_SIZE + 10):
        factories.MembershipFactory(org=world.org, user=None, email=f"m{n:03}@example.test")
    return reverse("org_members", args=[world.org.pk])


def test_next_and_previous_walk_the_same_pages_as_their_numbers(world, login, many_members):
    client = login(world.alice)
    numbered = [(n, row_ids(client.get(f"{many_members}?page={n}"))) for n in (1, 2, 3)]
    forward = walk(client, many_members, "next")
    assert forward == numbered
    assert link(client.get(f"{many_members}?page=2"), "next").startswith("?page=3&after=")

    last_query = link(client.get(many_members + link(client.get(many_members), "next")), "next")
    backward = walk(client, many_members, "prev", start=last_query)
    assert backward == numbered[::-1]
    everyone = list(member_list(org=world.org).values_list("pk", flat=True))
    assert [pk for _n, rows in forward for pk in rows] == everyone  # each once, in order


def test_a_page_from_a_row_reads_no_offset_and_a_constant_number_of_queries(
    world, login, many_members
):
    client = login(world.alice)
    next_query = link(client.get(many_members), "next")
    numbered, from_row = page_queries(client, f"{many_members}?page=2", many_members + next_query)
    # One more: the numbered page chooses its rows inside the query of their figures; a
    # page from a row reads its rows first (26, to know whether a next page exists).
    assert len(from_row) == len(numbered) + 1
    page_reads = [sql for sql in from_row if "LIMIT 26" in sql]
    assert len(page_reads) == 1 and "OFFSET" not in page_reads[0]
    assert any("OFFSET" in sql for sql in numbered)


def test_a_row_of_another_org_gives_the_numbered_page(world, login, many_members):
    """The row must be in the list itself: another tenant's row id says nothing about
    where that row sorts, and the page is the one of the number."""
    stranger = factories.MembershipFactory(
        org=world.other_org, user=None, email="m010z@example.test"
    )
    client = login(world.alice)
    expected = row_ids(client.get(f"{many_members}?page=2"))
    for direction in ("after", "before"):
        response = client.get(f"{many_members}?page=2&{direction}={stranger.pk}")
        assert row_ids(response) == expected
        assert stranger.pk not in row_ids(response)


@pytest.mark.parametrize("cursor", ["not-an-id", "00000000-0000-0000-0000-000000000000", ""])
def test_a_malformed_or_unknown_row_gives_the_numbered_page(world, login, many_members, cursor):
    client = login(world.alice)
    expected = row_ids(client.get(f"{many_members}?page=3"))
    response = client.get(f"{many_members}?page=3&after={cursor}")
    assert response.status_code == 200 and row_ids(response) == expected


def test_a_row_that_left_the_list_gives_the_numbered_page(world, login, many_members):
    client = login(world.alice)
    next_query = link(client.get(many_members), "next")
    expected = row_ids(client.get(f"{many_members}?page=2"))
    Membership.objects.filter(pk=next_query.rpartition("=")[2]).delete()
    # One row fewer before page 2: its rows shift by one, as a numbered page's would.
    assert row_ids(client.get(many_members + next_query)) == row_ids(
        client.get(f"{many_members}?page=2")
    )
    assert row_ids(client.get(f"{many_members}?page=2")) != expected


def test_rows_that_tie_on_the_first_column_are_neither_skipped_nor_repeated(world, login):
    """Events of one instant, in many pages: the id decides between them."""
    at = timezone.now() - timedelta(minutes=5)
    for _ in range(PAGE_SIZE * 2 + 3):
        factories.EventFactory(org=world.org, occurred_at=at)
    url = reverse("org_events", args=[world.org.pk])
    client = login(world.alice)
    forward = walk(client, url, "next")
    walked = [pk for _n, rows in forward for pk in rows]
    assert len(walked) == len(set(walked)) == Event.objects.filter(org=world.org).count()
    numbered = [(n, row_ids(client.get(f"{url}?page={n}"))) for n, _rows in forward]
    assert forward == numbered


def test_which_orders_allow_a_page_from_a_row(world):
    events = Event.objects.filter(org=world.org)
    assert _keyset_order(events.order_by("-occurred_at", "-id")) == [
        Column("occurred_at", descending=True),
        Column("id", descending=True),
    ]
    assert _keyset_order(events.order_by("-occurred_at", "-id").values_list("pk", flat=True))
    members = Membership.objects.filter(org=world.org)
    assert _keyset_order(members.order_by("email", "pk")) == [
        Column("email", descending=False),
        Column("id", descending=False),
    ]
    # Not: unordered, not ending with the id (ties), a nullable column, a column of
    # another table, an annotation, rows without their id, a plain list.
    assert _keyset_order(events) is None
    assert _keyset_order(events.order_by("-occurred_at")) is None
    assert _keyset_order(members.order_by("user", "pk")) is None
    assert _keyset_order(members.order_by("user__email", "pk")) is None
    assert _keyset_order(events.order_by("type", "-id").values_list("type", "id")) is None
    assert _keyset_order(list(events)) is None
