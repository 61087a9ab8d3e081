"""Seats and billing, the provider event log, the merged client logs, CSV exports."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clients.models import MemberRole, MemberStatus, Plan
from portal.csv import csv_lines, neutralise
from portal.models import Event, EventType
from providers.models import ProviderRole, ProviderUser
from providers.selectors import billing_rows, client_event_list, client_scope_for_actor
from providers.services import client_create, provider_user_invite
from tests import factories

from .helpers import event_types, open_invitation, provider_actor, provider_url

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# --- CSV -------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["=SUM(A1)", "+1", "-1+2", "@cmd", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert neutralise(cell) == "'" + cell


def test_plain_cells_and_numbers_are_kept():
    assert [neutralise(v) for v in ["Acme", "a=b", -3, 0, None]] == ["Acme", "a=b", -3, 0, ""]
    assert list(csv_lines(["a"], [["=1", 2]])) == ["a\r\n", "'=1,2\r\n"]
    assert neutralise("Smith, Jo; Lee") == "Smith, Jo; Lee"


@pytest.mark.parametrize(
    "cell, neutralised",
    [
        ("Acme;=HYPERLINK(1)", "Acme;'=HYPERLINK(1)"),
        ("Acme,+1", "Acme,'+1"),
        ("Acme\t-2+3", "Acme\t'-2+3"),
        ("Acme\n@SUM(A1)", "Acme\n'@SUM(A1)"),
        ("Acme\r=1", "Acme\r'=1"),
        ("Acme; =1", "Acme;' =1"),  # spreadsheets may trim the space
        ("=1;=2", "'=1;'=2"),
        ("\t=1", "'\t'=1"),
    ],
)
def test_a_formula_after_a_separator_inside_a_cell_is_neutralised(cell, neutralised):
    """Spreadsheets in other locales split cells on ";" or tabs, whatever the quoting:
    every piece that could become a cell must not start a formula."""
    assert neutralise(cell) == neutralised
    for separator in ";,\t\r\n":
        for piece in neutralise(cell).split(separator):
            assert not piece.lstrip(" ").startswith(("=", "+", "-", "@")), (cell, piece)


# --- Billing ---------------------------------------------------------------------------


@pytest.fixture
def billing_world(world):
    enterprise = factories.OrganizationFactory(
        name="=HYPERLINK(evil)", plan=Plan.ENTERPRISE, seats=20, provider=world.provider
    )
    for status in (MemberStatus.CONFIRMED, MemberStatus.INVITED, MemberStatus.REVOKED):
        factories.MembershipFactory(org=enterprise, status=status)
    team = factories.OrganizationFactory(name="Our Team", seats=5, provider=world.provider)
    factories.MembershipFactory(org=team)
    world.provider.internal_org = team
    world.provider.save()
    return enterprise


def test_billing_shows_seats_per_client_and_per_plan(world, login, billing_world):
    response = login(world.provider_admin).get(provider_url("provider_billing", world.provider))
    assert response.status_code == 200
    totals = {total.plan: total for total in response.context["plan_totals"]}
    assert (totals["teams"].clients, totals["teams"].seats, totals["teams"].seats_used) == (
        1,
        10,
        4,
    )
    enterprise = totals["enterprise"]
    assert (enterprise.clients, enterprise.seats, enterprise.seats_used) == (1, 20, 2)
    assert enterprise.seats_remaining == 18
    names = [client.name for client in response.context["page"].object_list]
    assert "Our Team" not in names and "Alice Co" in names
    assert response.context["internal"].name == "Our Team"
    assert b"not counted as a client" in response.content


def test_billing_csv_has_the_invoice_report_columns(world, login, billing_world):
    response = login(world.provider_admin).get(
        provider_url("provider_billing_export", world.provider)
    )
    rows = read_csv(response)
    assert rows[0] == ["client", "id", "assigned", "used", "remaining", "plan"]
    assert rows[1:] == [
        ["'=HYPERLINK(evil)", str(billing_world.pk), "20", "2", "18", "Enterprise"],
        ["Alice Co", str(world.org.pk), "10", "4", "6", "Teams"],
    ]


def test_billing_is_for_provider_admins(world, login):
    client = login(world.service_user)
    for name in ("provider_billing", "provider_billing_export"):
        assert client.get(provider_url(name, world.provider)).status_code == 403


def test_marking_the_internal_team(world, login):
    team = factories.OrganizationFactory(name="Our Team", provider=world.provider)
    client = login(world.provider_admin)
    url = provider_url("provider_internal_org", world.provider)
    forged = client.post(url, {"org": world.other_org.pk})
    assert forged.status_code == 200 and b"Select a valid choice" in forged.content
    assert client.post(url, {"org": team.pk}).status_code == 302
    world.provider.refresh_from_db()
    assert world.provider.internal_org == team
    event = Event.objects.get(provider=world.provider, type=EventType.PROVIDER_UPDATED)
    assert event.details["internal_org"] == str(team.pk)
    client.post(url, {"org": ""})
    world.provider.refresh_from_db()
    assert world.provider.internal_org is None


# --- The provider's event log ----------------------------------------------------------


def _event(provider, event_type, days_ago=0, **fields):
    return factories.EventFactory(
        org=None,
        provider=provider,
        type=event_type,
        occurred_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def test_provider_log_filters_by_date_user_and_client(world, login):
    second = factories.OrganizationFactory(name="Second", provider=world.provider)
    _event(
        world.provider,
        EventType.CLIENT_CREATED,
        10,
        actor=world.provider_admin,
        object_type="organization",
        object_id=str(second.pk),
        details={"client": "Second"},
    )
    _event(
        world.provider,
        EventType.PROVIDER_USER_INVITED,
        1,
        actor=world.provider_admin,
        details={"email": "new@msp.test"},
    )
    _event(
        world.provider,
        EventType.CLIENT_ACCESSED,
        0,
        actor=world.service_user,
        object_type="organization",
        object_id=str(world.org.pk),
        details={"client": "Alice Co"},
    )
    _event(world.other_provider, EventType.CLIENT_CREATED, 0)
    client = login(world.provider_admin)
    url = provider_url("provider_events", world.provider)

    def types(**params):
        return [e.type for e in client.get(url, params).context["page"].object_list]

    assert types() == [
        EventType.CLIENT_ACCESSED,
        EventType.PROVIDER_USER_INVITED,
        EventType.CLIENT_CREATED,
    ]
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert types(start=since) == [EventType.CLIENT_ACCESSED, EventType.PROVIDER_USER_INVITED]
    assert types(end=since) == [EventType.CLIENT_CREATED]
    assert types(user=world.service_user.pk) == [EventType.CLIENT_ACCESSED]
    assert types(client=second.pk) == [EventType.CLIENT_CREATED]


def test_provider_log_refuses_bad_filters_with_a_message(world, login):
    client = login(world.provider_admin)
    url = provider_url("provider_events", world.provider)
    backwards = client.get(url, {"start": "2026-02-01", "end": "2026-01-01"})
    assert b"The end date must not be before the start date." in backwards.content
    not_a_date = client.get(url, {"start": "yesterday"})
    assert b"Enter a valid date." in not_a_date.content
    foreign = client.get(url, {"client": world.other_org.pk, "user": world.charlie.pk})
    assert foreign.content.count(b"Select a valid choice") == 2
    export = client.get(provider_url("provider_events_export", world.provider), {"start": "x"})
    assert export.status_code == 302 and export["Location"].startswith(url)


def test_provider_log_paginates_and_keeps_filters(world, login):
    for _ in range(30):
        _event(world.provider, EventType.PROVIDER_USER_UPDATED, 1, actor=world.provider_admin)
    client = login(world.provider_admin)
    response = client.get(
        provider_url("provider_events", world.provider), {"user": world.provider_admin.pk}
    )
    assert b"Page 1 of 2" in response.content
    assert f"user={world.provider_admin.pk}&amp;page=2".encode() in response.content


def test_provider_log_csv_neutralises_cells(world, login):
    evil = factories.OrganizationFactory(name="@evil", provider=world.provider)
    _event(
        world.provider,
        EventType.CLIENT_CREATED,
        actor=world.provider_admin,
        object_type="organization",
        object_id=str(evil.pk),
        details={"client": "-2+3"},
    )
    response = login(world.provider_admin).get(
        provider_url("provider_events_export", world.provider)
    )
    rows = read_csv(response)
    assert rows[0][:4] == ["time", "event", "actor", "client"]
    assert rows[1][1:5] == ["Client created", world.provider_admin.email, "'-2+3", str(evil.pk)]


def test_every_provider_action_lands_in_the_provider_log(
    world, login, django_capture_on_commit_callbacks
):
    """Each provider action through its page writes exactly its event, in order."""
    own_org = factories.OrganizationFactory(name="Own Org")
    factories.MembershipFactory(org=own_org, user=world.provider_admin, role=MemberRole.OWNER)
    service = world.provider.provider_users.get(user=world.service_user)
    admin = login(world.provider_admin)

    def post(url_name, *args, **data):
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.post(provider_url(url_name, world.provider, *args), data)
        assert response.status_code == 302, (url_name, response.content[:500])

    post("provider_users_invite", emails="n@msp.test", role="service_user")
    invitee = ProviderUser.objects.get(email="n@msp.test")
    post("provider_users_resend", provider_users=[invitee.pk])
    invitee_client = Client()
    invitee_client.post(
        open_invitation(invitee_client),
        {"password1": "a long new passphrase", "password2": "a long new passphrase"},
    )
    post("provider_user_confirm", invitee.pk)
    post("provider_user_role", invitee.pk, role="admin")
    post("provider_user_scope", service.pk, scope="chosen", clients=[world.org.pk])
    post("provider_user_remove", invitee.pk)
    post("provider_client_create", name="New", plan="teams", seats=3, owner_email="o@n.test")
    post("provider_client_add", org=own_org.pk)
    post("provider_client_edit", world.org.pk, name="Alice Co", seats=12)
    admin.get(reverse("org_overview", args=[world.org.pk]))
    post("provider_client_unlink", own_org.pk)
    post("provider_internal_org", org=world.org.pk)

    assert event_types(provider=world.provider) == [
        EventType.PROVIDER_USER_INVITED,
        EventType.PROVIDER_USER_INVITED,  # resent
        EventType.PROVIDER_USER_ACCEPTED,
        EventType.PROVIDER_USER_CONFIRMED,
        EventType.PROVIDER_USER_UPDATED,  # role
        EventType.PROVIDER_USER_UPDATED,  # client scope
        EventType.PROVIDER_USER_REMOVED,
        EventType.CLIENT_CREATED,
        EventType.CLIENT_ADDED,
        EventType.CLIENT_UPDATED,
        EventType.CLIENT_ACCESSED,
        EventType.CLIENT_UNLINKED,
        EventType.PROVIDER_UPDATED,  # internal team
    ]
    # The client-side rows name the provider as the actor.
    assert event_types(org=own_org, acting_provider=world.provider) == [
        EventType.ORG_UPDATED,  # added
        EventType.ORG_UPDATED,  # unlinked
    ]
    page = admin.get(provider_url("provider_events", world.provider)).content.decode()
    for label in ("Provider user invited", "Client created", "Client accessed by provider"):
        assert label in page
    assert "n@msp.test" in page and "Alice Co" in page


def test_provider_log_is_for_provider_admins(world, login):
    client = login(world.service_user)
    for name in ("provider_events", "provider_events_export", "provider_client_events"):
        assert client.get(provider_url(name, world.provider)).status_code == 403


# --- The merged log of all clients ------------------------------------------------------


def test_merged_client_log(world, login):
    second = factories.OrganizationFactory(name="Second", provider=world.provider)
    gone = factories.OrganizationFactory(name="Gone", provider=None)
    factories.EventFactory(org=world.org, type=EventType.MEMBER_CONFIRMED, actor=world.alice)
    factories.EventFactory(org=second, type=EventType.GROUP_CREATED)
    factories.EventFactory(org=world.other_org, type=EventType.GROUP_DELETED)
    factories.EventFactory(org=gone, type=EventType.COLLECTION_DELETED)
    client = login(world.provider_admin)
    url = provider_url("provider_client_events", world.provider)
    events = client.get(url).context["page"].object_list
    assert {(e.org.name, e.type) for e in events} == {
        ("Alice Co", EventType.MEMBER_CONFIRMED),
        ("Second", EventType.GROUP_CREATED),
    }
    only_second = client.get(url, {"client": second.pk}).context["page"].object_list
    assert [e.type for e in only_second] == [EventType.GROUP_CREATED]
    assert b"Select a valid choice" in client.get(url, {"client": world.other_org.pk}).content


def test_provider_log_csv_neutralises_every_cell_a_user_can_influence(
    world, login, django_capture_on_commit_callbacks
):
    """Names and addresses come from users: a client named "-2+3", an admin whose address
    starts with "=", a provider user invited as "+1@msp.test"."""
    evil_admin = factories.ProviderUserFactory(
        provider=world.provider, user=factories.UserFactory(email="=cmd@evil.test")
    ).user
    actor = provider_actor(evil_admin, world.provider)
    with django_capture_on_commit_callbacks(execute=True):
        org = client_create(
            actor=actor, name="-2+3", plan=Plan.TEAMS, seats=2, owner_email="o@x.test"
        )
        invited = provider_user_invite(
            actor=actor, emails=["+1@msp.test"], role=ProviderRole.SERVICE_USER
        )[0]
    rows = read_csv(
        login(world.provider_admin).get(provider_url("provider_events_export", world.provider))
    )
    header, *body = rows
    assert header == [
        "time",
        "event",
        "actor",
        "client",
        "client id",
        "provider user",
        "object type",
        "object id",
        "ip address",
    ]
    by_event = {row[1]: dict(zip(header, row, strict=True)) for row in body}
    invited_row = by_event["Provider user invited"]
    assert invited_row["actor"] == "'=cmd@evil.test"
    assert invited_row["provider user"] == "'+1@msp.test"
    assert (invited_row["client"], invited_row["object id"]) == ("", str(invited.pk))
    created_row = by_event["Client created"]
    assert created_row["client"] == "'-2+3" and created_row["client id"] == str(org.pk)
    assert created_row["provider user"] == ""
    for row in body:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row


def test_billing_searches_by_name_and_keeps_the_search_across_pages(world, login):
    for n in range(30):
        factories.OrganizationFactory(name=f"Client {n:02d}", provider=world.provider)
    factories.OrganizationFactory(name="Client of another", provider=world.other_provider)
    client = login(world.provider_admin)
    url = provider_url("provider_billing", world.provider)
    searched = client.get(url, {"q": "client"})
    assert searched.context["page"].paginator.count == 30
    assert b"q=client&amp;page=2" in searched.content
    assert [c.name for c in client.get(url, {"q": "client 07"}).context["page"].object_list] == [
        "Client 07"
    ]
    assert b"No client matches" in client.get(url, {"q": "nothing"}).content


def test_billing_and_the_merged_log_read_only_the_clients_an_actor_reaches(world):
    """Service users cannot open these pages (403); should that change, the selectors
    already keep a scoped service user to its own clients."""
    second = factories.OrganizationFactory(name="Second", provider=world.provider)
    factories.EventFactory(org=world.org, type=EventType.MEMBER_UPDATED)
    factories.EventFactory(org=second, type=EventType.GROUP_CREATED)
    service = world.provider.provider_users.get(user=world.service_user)
    service.access_all_clients = False
    service.save()
    service.client_scope.add(second)
    scope = client_scope_for_actor(actor=provider_actor(world.service_user, world.provider))
    assert [org.name for org in billing_rows(clients=scope)] == ["Second"]
    assert [e.org for e in client_event_list(clients=scope)] == [second]
    admin_scope = client_scope_for_actor(actor=provider_actor(world.provider_admin, world.provider))
    assert {e.org for e in client_event_list(clients=admin_scope)} == {world.org, second}


def test_paging_an_unfiltered_log_is_not_a_filter(world, login):
    for _ in range(30):
        _event(world.provider, EventType.PROVIDER_USER_UPDATED, 1, actor=world.provider_admin)
    client = login(world.provider_admin)
    page2 = client.get(provider_url("provider_events", world.provider), {"page": 2})
    assert not page2.context["form"].is_bound
    assert b">Clear</a>" not in page2.content
    filtered = client.get(provider_url("provider_events", world.provider), {"start": "2020-01-01"})
    assert filtered.context["form"].is_bound and b">Clear</a>" in filtered.content
