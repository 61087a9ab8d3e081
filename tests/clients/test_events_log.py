"""The org's event log: objects by what people recognize, changes as before → after,
filters, bulk look-ups (queries do not grow with rows), the CSV exports."""

import csv
import io
import uuid

import pytest
from django.urls import reverse

from clients.models import MemberRole
from portal.models import EventType
from tests import factories

pytestmark = pytest.mark.django_db


def log_url(org, name="org_events"):
    return reverse(name, args=[org.pk])


def event(org, type_, obj=None, **fields):
    if obj is not None:
        fields.setdefault("object_type", obj._meta.model_name)
        fields.setdefault("object_id", str(obj.pk))
    return factories.EventFactory(org=org, type=type_, **fields)


def rows_of(response):
    return list(response.context["page"].object_list)


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# --- What a row shows -------------------------------------------------------------------


def test_objects_are_named_by_email_and_name_as_they_are_now(world, login):
    member = factories.MembershipFactory(org=world.org, email="dana@example.test", user=None)
    group = factories.GroupFactory(org=world.org, name="Finance")
    event(world.org, EventType.MEMBER_INVITED, member, details={"email": "dana@example.test"})
    event(world.org, EventType.GROUP_CREATED, group, details={"name": "Old name"})
    event(world.org, EventType.COLLECTION_CREATED, world.collection)
    page = login(world.alice).get(log_url(world.org)).content.decode()
    assert "Member: dana@example.test" in page
    assert "Group: Finance" in page and "Old name" not in page  # renamed since: the name now
    assert "Collection: Shared" in page


def test_deleted_objects_fall_back_to_the_name_the_event_kept(world, login):
    gone = uuid.uuid4()
    event(
        world.org,
        EventType.GROUP_DELETED,
        object_type="group",
        object_id=str(gone),
        details={"name": "Contractors"},
    )
    event(
        world.org,
        EventType.MEMBER_REMOVED,
        object_type="membership",
        object_id=str(uuid.uuid4()),
        details={"email": "left@example.test"},
    )
    page = login(world.alice).get(log_url(world.org)).content.decode()
    assert "Group: Contractors" in page and "Member: left@example.test" in page


def test_another_orgs_object_is_never_named_through_an_id(world, login):
    """An event naming another org's collection id gets no look-up result from that org."""
    event(
        world.org,
        EventType.COLLECTION_UPDATED,
        object_type="collection",
        object_id=str(world.other_collection.pk),
        details={"name": "as recorded"},
    )
    page = login(world.alice).get(log_url(world.org)).content.decode()
    assert "Theirs" not in page and "Collection: as recorded" in page


def test_changes_show_before_and_after(world, login):
    member = factories.MembershipFactory(org=world.org, email="erin@example.test")
    event(
        world.org,
        EventType.MEMBER_UPDATED,
        member,
        details={
            "email": "erin@example.test",
            "changes": {"role": ["user", "admin"], "groups": [[], ["Finance", "IT"]]},
        },
    )
    page = login(world.alice).get(log_url(world.org)).content.decode()
    assert "role: user → admin" in page
    assert "groups: (none) → Finance, IT" in page


def test_items_are_shown_by_id_and_linked_only_for_vault_users(world, login):
    item_id = uuid.uuid4()
    event(world.org, EventType.ITEM_VIEWED, object_type="item", object_id=str(item_id))
    item_url = reverse("vault_item_detail", args=[world.org.pk, item_id])
    owner_page = login(world.alice).get(log_url(world.org)).content.decode()
    assert str(item_id) in owner_page and f'href="{item_url}"' in owner_page
    for provider_staff in (world.provider_admin, world.service_user):
        page = login(provider_staff).get(log_url(world.org)).content.decode()
        assert str(item_id) in page and item_url not in page


def test_a_providers_action_names_the_provider_and_the_person(world, login):
    event(
        world.org,
        EventType.GROUP_CREATED,
        actor=world.provider_admin,
        acting_provider=world.provider,
    )
    event(world.org, EventType.ORG_UPDATED, actor=world.alice)
    [by_provider, by_owner] = sorted(
        rows_of(login(world.alice).get(log_url(world.org))), key=lambda r: r.event.type
    )
    assert by_provider.by == "Demo MSP (provider)"
    assert by_provider.by_email == world.provider_admin.email
    assert by_owner.by == "alice@example.test"
    page = login(world.alice).get(log_url(world.org)).content.decode()
    assert "Demo MSP (provider)" in page and world.provider_admin.email in page


# --- Filters ----------------------------------------------------------------------------


def test_filters_by_actor_type_and_object(world, login):
    group = factories.GroupFactory(org=world.org, name="Finance")
    other_group = factories.GroupFactory(org=world.org, name="IT")
    event(world.org, EventType.GROUP_CREATED, group, actor=world.alice)
    event(world.org, EventType.GROUP_UPDATED, group, actor=world.org_admin)
    event(world.org, EventType.GROUP_CREATED, other_group, actor=world.org_admin)
    event(world.org, EventType.COLLECTION_CREATED, world.collection, actor=world.alice)
    client = login(world.alice)

    def found(**filters):
        rows = rows_of(client.get(log_url(world.org), filters))
        return sorted((r.event.type, r.object_name) for r in rows)

    assert found(actor_email="ALICE@example") == [
        (EventType.COLLECTION_CREATED, "Shared"),
        (EventType.GROUP_CREATED, "Finance"),
    ]
    assert found(type=EventType.GROUP_CREATED) == [
        (EventType.GROUP_CREATED, "Finance"),
        (EventType.GROUP_CREATED, "IT"),
    ]
    assert found(object_type="collection") == [(EventType.COLLECTION_CREATED, "Shared")]
    assert found(object_type="group", object_id=str(group.pk)) == [
        (EventType.GROUP_CREATED, "Finance"),
        (EventType.GROUP_UPDATED, "Finance"),
    ]


def test_a_bad_filter_is_a_form_error_on_the_page(world, login):
    response = login(world.alice).get(log_url(world.org), {"type": "no.such"})
    assert response.status_code == 200
    assert "type" in response.context["form"].errors
    assert 'value="no.such"' not in response.content.decode()  # a select keeps known values
    assert login(world.alice).get(log_url(world.org), {"actor_email": "x" * 300}).status_code == 200


def test_pagination_keeps_the_filters(world, login):
    for _ in range(30):
        event(world.org, EventType.GROUP_CREATED, actor=world.alice)
    page = login(world.alice).get(log_url(world.org), {"actor_email": "alice"}).content.decode()
    assert "actor_email=alice&amp;page=2" in page


def test_other_orgs_rows_are_absent(world, login):
    event(world.org, EventType.GROUP_CREATED, details={"name": "ours"})
    event(world.other_org, EventType.GROUP_CREATED, details={"name": "theirs"})
    rows = rows_of(login(world.alice).get(log_url(world.org)))
    assert {r.event.org_id for r in rows} == {world.org.pk}


def test_the_log_trio(world, login):
    url = log_url(world.org)
    assert login(world.alice).get(url).status_code == 200
    assert login(world.bob).get(url).status_code == 403
    assert login(world.charlie).get(url).status_code == 404
    assert login(world.alice).post(url).status_code == 405
    assert login(world.alice).get(f"/orgs/{uuid.uuid4()}/events/").status_code == 404


# --- Queries do not grow with rows --------------------------------------------------------


def _fill(org, actor, n):
    """n rows of each kind: members, groups, collections, items, a provider's action."""
    for i in range(n):
        member = factories.MembershipFactory(org=org, email=f"m{i}-{uuid.uuid4()}@example.test")
        group = factories.GroupFactory(org=org, name=f"g{i}-{uuid.uuid4()}")
        collection = factories.CollectionFactory(org=org, name=f"c{i}-{uuid.uuid4()}")
        event(
            org,
            EventType.MEMBER_UPDATED,
            member,
            actor=actor,
            details={"changes": {"role": ["user", "admin"]}},
        )
        event(org, EventType.GROUP_CREATED, group, actor=actor)
        event(org, EventType.COLLECTION_CREATED, collection, actor=actor)
        event(org, EventType.ITEM_VIEWED, object_type="item", object_id=str(uuid.uuid4()))
        event(org, EventType.ORG_UPDATED, actor=actor, acting_provider=org.provider)


def _queries_for_page(client, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(log_url(org))
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("user_attr", ["alice", "provider_admin"])
def test_queries_do_not_grow_with_rows(world, login, django_assert_num_queries, user_attr):
    client = login(getattr(world, user_attr))
    client.get(log_url(world.org))  # the provider's first entry is written once per session
    _fill(world.org, world.alice, 1)  # 5 rows
    few = _queries_for_page(client, world.org)
    _fill(world.org, world.alice, 5)  # 30 rows: a full page of 25
    with django_assert_num_queries(few):
        assert len(rows_of(client.get(log_url(world.org)))) == 25


# --- CSV export ---------------------------------------------------------------------------


def test_csv_export_streams_the_filtered_log_neutralised(world, login):
    group = factories.GroupFactory(org=world.org, name="=HYPERLINK(1)")
    event(
        world.org,
        EventType.GROUP_UPDATED,
        group,
        actor=world.alice,
        details={"changes": {"name": ["-2+3", "=HYPERLINK(1)"]}},
    )
    event(world.org, EventType.COLLECTION_CREATED, world.collection, actor=world.org_admin)
    event(world.other_org, EventType.GROUP_CREATED, details={"name": "theirs"})
    response = login(world.alice).get(
        log_url(world.org, "org_events_export"), {"type": "group.updated"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in response["Cache-Control"]
    assert response.streaming
    header, *rows = csv_rows(response)
    assert header[:3] == ["time", "event", "by"]
    assert len(rows) == 1
    [row] = rows
    assert row[1] == "Group updated" and row[2] == "alice@example.test"
    assert row[6] == "'=HYPERLINK(1)"  # the group's name, neutralised
    assert row[7] == "name: -2+3 → =HYPERLINK(1)"  # no formula character leads the cell
    assert (
        "theirs"
        not in b"".join(
            login(world.alice).get(log_url(world.org, "org_events_export")).streaming_content
        ).decode()
    )


def test_csv_export_names_the_provider(world, login):
    event(
        world.org, EventType.GROUP_CREATED, actor=world.service_user, acting_provider=world.provider
    )
    response = login(world.provider_admin).get(log_url(world.org, "org_events_export"))
    rows = csv_rows(response)[1:]
    assert [(r[2], r[3]) for r in rows if r[1] == "Group created"] == [
        ("Demo MSP (provider)", world.service_user.email)
    ]


def test_csv_export_with_bad_filters_goes_back_to_the_log(world, login):
    response = login(world.alice).get(log_url(world.org, "org_events_export"), {"type": "no.such"})
    assert response.status_code == 302
    assert response["Location"].startswith(log_url(world.org))


def test_csv_export_trio(world, login):
    url = log_url(world.org, "org_events_export")
    assert login(world.bob).get(url).status_code == 403
    custom_with_logs = factories.MembershipFactory(
        org=world.org, role=MemberRole.CUSTOM, can_access_event_logs=True
    ).user
    assert login(custom_with_logs).get(url).status_code == 200
    assert login(world.charlie).get(url).status_code == 404
    assert login(world.alice).post(url).status_code == 405
    assert login(world.alice).get(f"/orgs/{uuid.uuid4()}/events/export.csv").status_code == 404


# --- The provider's merged client log -------------------------------------------------------


def merged_url(provider, name="provider_client_events"):
    return reverse(name, args=[provider.pk])


def test_merged_log_names_objects_and_gives_providers_no_item_links(world, login):
    group = factories.GroupFactory(org=world.org, name="Finance")
    event(world.org, EventType.GROUP_CREATED, group, actor=world.alice)
    item_id = uuid.uuid4()
    event(world.org, EventType.ITEM_VIEWED, object_type="item", object_id=str(item_id))
    page = login(world.provider_admin).get(merged_url(world.provider)).content.decode()
    assert "Group: Finance" in page and str(item_id) in page
    assert reverse("vault_item_detail", args=[world.org.pk, item_id]) not in page


def test_merged_log_csv_export(world, login):
    second = factories.OrganizationFactory(name="=Second", provider=world.provider)
    group = factories.GroupFactory(org=second, name="Finance")
    event(
        second,
        EventType.GROUP_CREATED,
        group,
        actor=world.service_user,
        acting_provider=world.provider,
    )
    event(world.org, EventType.MEMBER_CONFIRMED, actor=world.alice)
    event(world.other_org, EventType.GROUP_DELETED, details={"name": "theirs"})
    client = login(world.provider_admin)
    response = client.get(merged_url(world.provider, "provider_client_events_export"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    header, *rows = csv_rows(response)
    assert header[:2] == ["client", "client id"]
    by_client = {row[0]: row for row in rows}
    assert set(by_client) == {"'=Second", "Alice Co"}  # another provider's client is absent
    assert by_client["'=Second"][4] == "Demo MSP (provider)"
    assert by_client["'=Second"][8] == "Finance"
    only = client.get(
        merged_url(world.provider, "provider_client_events_export"), {"client": world.org.pk}
    )
    assert [row[0] for row in csv_rows(only)[1:]] == ["Alice Co"]
    foreign = client.get(
        merged_url(world.provider, "provider_client_events_export"), {"client": world.other_org.pk}
    )
    assert foreign.status_code == 302  # not a choice: back to the log, which says so


def test_merged_log_csv_export_is_for_provider_admins(world, login):
    url = merged_url(world.provider, "provider_client_events_export")
    assert login(world.service_user).get(url).status_code == 403
    assert login(world.alice).get(url).status_code == 404
    assert login(world.other_provider_admin).get(url).status_code == 404
    assert login(world.provider_admin).post(url).status_code == 405


def test_merged_log_queries_do_not_grow_with_rows(world, login, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    second = factories.OrganizationFactory(name="Second", provider=world.provider)
    client = login(world.provider_admin)
    _fill(world.org, world.alice, 1)
    _fill(second, world.alice, 1)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(merged_url(world.provider)).status_code == 200
    _fill(world.org, world.alice, 3)
    _fill(second, world.alice, 3)
    with django_assert_num_queries(len(captured)):
        assert len(rows_of(client.get(merged_url(world.provider)))) == 25
