"""The org pages: lists scoped to the org, searchable, paginated, with constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import MemberStatus
from tests import factories

pytestmark = pytest.mark.django_db


def test_members_list_shows_only_this_orgs_members(world, login):
    response = login(world.alice).get(reverse("org_members", args=[world.org.pk]))
    assert b"bob@example.test" in response.content
    assert b"charlie@example.test" not in response.content


def test_members_search(world, login):
    response = login(world.alice).get(reverse("org_members", args=[world.org.pk]), {"q": "bob"})
    assert b"bob@example.test" in response.content
    assert b"admin@example.test" not in response.content
    assert b'value="bob"' in response.content  # the search box keeps the term


def test_members_pagination(world, login):
    for n in range(30):
        factories.MembershipFactory(
            org=world.org, user=None, email=f"zz{n:02d}@example.test", status=MemberStatus.INVITED
        )
    client = login(world.alice)
    first = client.get(reverse("org_members", args=[world.org.pk]))
    assert b"Page 1 of 2" in first.content
    second = client.get(reverse("org_members", args=[world.org.pk]), {"page": 2})
    assert b"zz29@example.test" in second.content
    # A malformed page number shows the nearest page, never an error.
    assert client.get(reverse("org_members", args=[world.org.pk]), {"page": "x"}).status_code == 200


def test_groups_and_collections_lists(world, login):
    factories.GroupFactory(org=world.org, name="Engineering")
    factories.GroupFactory(org=world.other_org, name="Their Group")
    client = login(world.provider_admin)
    groups = client.get(reverse("org_groups", args=[world.org.pk]))
    assert b"Engineering" in groups.content and b"Their Group" not in groups.content
    collections = client.get(reverse("org_collections", args=[world.org.pk]))
    assert b"Shared" in collections.content and b"Theirs" not in collections.content


def test_provider_staff_are_not_listed_as_members(world, login):
    response = login(world.provider_admin).get(reverse("org_members", args=[world.org.pk]))
    table = response.content.split(b"<tbody>")[1]
    assert b"alice@example.test" in table
    assert world.provider_admin.email.encode() not in table


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("page", ["org_members", "org_groups", "org_collections"])
def test_list_queries_do_not_grow_with_rows(world, login, page):
    def add_rows(count):
        for _ in range(count):
            member = factories.MembershipFactory(org=world.org)
            group = factories.GroupFactory(org=world.org)
            group.members.add(member)
            factories.CollectionMemberGrantFactory(
                collection=factories.CollectionFactory(org=world.org), membership=member
            )

    client = login(world.alice)
    url = reverse(page, args=[world.org.pk])
    add_rows(1)
    before = count_queries(client, url)
    add_rows(15)
    assert count_queries(client, url) == before


def test_dashboard_search_and_scope(world, login):
    factories.OrganizationFactory(name="Zeta Corp", provider=world.provider)
    client = login(world.provider_admin)
    url = reverse("provider_dashboard", args=[world.provider.pk])
    response = client.get(url, {"q": "zeta"})
    assert b"Zeta Corp" in response.content and b"Alice Co" not in response.content
    assert b"Other Co" not in client.get(url).content
