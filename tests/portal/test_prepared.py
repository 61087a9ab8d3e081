"""Prepared queries (portal/prepared.py) give what their querysets give, in one query each,
and refuse shapes they cannot prepare."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.models import Count
from django.test import override_settings

from clients.models import Membership, MemberStatus, Organization
from portal.access import _orgs_with_ties
from portal.models import Event, EventType, User
from portal.prepared import PreparedInsert, PreparedQuery, PreparedQueryMismatch, row_count
from tests import factories

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {k: v for k, v in obj.__dict__.items() if k != "_state"}


def test_models_with_select_related_and_annotations_equal_the_querysets():
    member = factories.MembershipFactory(status=MemberStatus.CONFIRMED)
    org = member.org
    org.provider = factories.ProviderFactory()
    org.save()
    factories.ProviderUserFactory(provider=org.provider, user=member.user)

    def build(user_id, org_id):
        return (
            _orgs_with_ties(user_id)
            .annotate(memberships_count=Count("memberships"))
            .filter(pk=org_id)
            .order_by()
        )

    expected = list(build(member.user_id, org.pk))[0]
    found = PreparedQuery(build).first(member.user_id, org.pk)

    assert _fields(found) == _fields(expected)
    assert found.memberships_count == 1
    for related in ("provider", "actor_membership", "actor_provider_user"):
        assert _fields(getattr(found, related)) == _fields(getattr(expected, related))
    assert found._state.adding is False and found._state.db == "default"


def test_arguments_change_between_calls_and_strangers_find_nothing():
    first, second = factories.MembershipFactory(), factories.MembershipFactory()
    query = PreparedQuery(lambda org_id: Organization.objects.filter(pk=org_id))

    assert query.first(first.org_id) == first.org
    assert query.first(str(second.org_id)) == second.org  # ids as text are ids too
    assert query.first(uuid.uuid4()) is None


def test_each_run_is_one_query_and_the_queryset_is_built_once_per_shape(
    django_assert_num_queries,
):
    org = factories.OrganizationFactory()
    builds = []

    def build(org_id):
        builds.append(org_id)
        return Organization.objects.filter(pk=org_id)

    query = PreparedQuery(build)
    with override_settings(PREPARED_QUERIES_CHECKED=False):
        for _ in range(3):
            with django_assert_num_queries(1):
                assert query.fetch(org.pk) == [org]
    assert len(builds) == 1


def test_list_arguments_one_shape_per_length_and_empty_lists_ask_nothing(
    django_assert_num_queries,
):
    orgs = [factories.OrganizationFactory() for _ in range(3)]
    names = PreparedQuery(
        lambda ids: (
            Organization.objects.filter(pk__in=ids).order_by("name").values_list("name", flat=True)
        )
    )

    assert names.fetch([o.pk for o in orgs[:2]]) == sorted(o.name for o in orgs[:2])
    assert names.fetch([o.pk for o in orgs]) == sorted(o.name for o in orgs)
    assert names.fetch([orgs[2].pk]) == [orgs[2].name]
    with django_assert_num_queries(0):
        assert names.fetch([]) == []


def test_values_list_rows():
    org = factories.OrganizationFactory(name="Acme")
    rows = PreparedQuery(
        lambda org_id: Organization.objects.filter(pk=org_id).values_list("pk", "name")
    )

    assert rows.fetch(org.pk) == [(org.pk, "Acme")]


def test_row_count_counts_as_count_does_in_one_row_without_grouping():
    org, other = factories.OrganizationFactory(), factories.OrganizationFactory()
    for _ in range(3):
        factories.MembershipFactory(org=org)
    factories.MembershipFactory(org=other)
    counted = PreparedQuery(lambda org_id: row_count(Membership.objects.filter(org_id=org_id)))

    assert counted.first(org.pk) == org.memberships.count() == 3
    assert counted.first(other.pk) == 1
    assert counted.first(uuid.uuid4()) == 0
    sql = str(row_count(org.memberships.all()).query)
    assert sql.startswith("SELECT COUNT(*) ") and "GROUP BY" not in sql


def test_a_shape_that_depends_on_an_argument_fails_in_checked_mode():
    """Compiled for one argument, the SQL would be wrong for another: the suite notices."""
    user = factories.UserFactory()

    def build(user_id):  # wrong: looks the user up to decide what to query
        users = User.objects.filter(pk=user_id)
        return users.filter(is_active=True) if users.exists() else users

    query = PreparedQuery(build)
    with override_settings(PREPARED_QUERIES_CHECKED=True), pytest.raises(PreparedQueryMismatch):
        query.fetch(user.pk)


def test_an_argument_that_is_not_a_parameter_is_refused():
    query = PreparedQuery(lambda name: Organization.objects.filter(name__icontains=name))

    with pytest.raises(TypeError, match="not a plain parameter"):
        query.fetch("acme")


def test_prefetching_is_refused():
    query = PreparedQuery(
        lambda org_id: Organization.objects.filter(pk=org_id).prefetch_related("memberships")
    )

    with pytest.raises(TypeError, match="cannot prefetch"):
        query.fetch(uuid.uuid4())


def test_prepared_insert_writes_the_row_save_would_write(django_assert_num_queries):
    org = factories.OrganizationFactory()
    user = factories.UserFactory()
    event = Event(
        type=EventType.ITEM_VIEWED,
        actor=user,
        org=org,
        object_type="item",
        object_id="42",
        ip_address="192.0.2.7",
        details={"field": "password", "n": [1, 2]},
        request_id="r1",
    )

    with django_assert_num_queries(1):
        PreparedInsert(Event).insert(event)

    stored = Event.objects.get(pk=event.pk)
    assert event._state.adding is False
    assert (stored.type, stored.actor, stored.org, stored.ip_address) == (
        EventType.ITEM_VIEWED,
        user,
        org,
        "192.0.2.7",
    )
    assert stored.details == {"field": "password", "n": [1, 2]}
    assert stored.occurred_at == event.occurred_at


def test_prepared_insert_refuses_unsaved_related_rows_and_existing_rows():
    unsaved = Organization(name="Not saved", id=None)
    insert = PreparedInsert(Event)

    with pytest.raises(ValueError, match="unsaved related object"):
        insert.insert(Event(type=EventType.ITEM_VIEWED, org=unsaved))
    event = Event(type=EventType.ITEM_VIEWED)
    insert.insert(event)
    with pytest.raises(ValueError, match="new rows only"):
        insert.insert(event)
    assert Event.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared on PostgreSQL only")
def test_on_postgresql_the_statement_is_prepared_once_and_still_counted(
    django_assert_num_queries,
):
    org = factories.OrganizationFactory()
    query = PreparedQuery(lambda org_id: Organization.objects.filter(pk=org_id))

    def prepared_here() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall() if "clients_organization" in row[0]]

    with django_assert_num_queries(2):
        assert query.first(org.pk) == org
        assert query.first(org.pk) == org
    assert len(prepared_here()) == 1

    with override_settings(PREPARED_STATEMENTS=False):
        other = PreparedQuery(lambda org_id: Organization.objects.filter(pk=org_id).order_by())
        assert other.first(org.pk) == org
    assert len(prepared_here()) == 1


def test_text_arguments_keep_their_text_uuid_columns_get_uuids():
    user = factories.UserFactory(email="alice@example.test")
    by_email = PreparedQuery(
        lambda email, user_id: User.objects.filter(email__iexact=email, pk=user_id)
    )

    assert by_email.first("ALICE@example.test", user.pk) == user
    assert by_email.first("ALICE@example.test", str(user.pk)) == user
    assert by_email.first("bob@example.test", user.pk) is None
