"""The members list: search, filters, pagination, bulk actions with their summaries, and
a number of queries that does not grow with the rows."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.models import MemberRole, Membership, MemberStatus
from portal.models import Event, EventType, Invitation
from tests import factories

from .members_helpers import add_member, member, page_messages, url

pytestmark = pytest.mark.django_db


def listed(response) -> str:
    return response.content.decode().split("<tbody>")[1].split("</tbody>")[0]


def test_list_shows_only_this_orgs_members_with_links_to_edit(world, login):
    response = login(world.alice).get(url("org_members", world.org))
    rows = listed(response)
    assert "bob@example.test" in rows and "charlie@example.test" not in rows
    assert url("org_member_edit", world.org, member(world, world.bob).pk) in rows
    assert url("org_members_invite", world.org) in response.content.decode()


def test_filter_by_status_and_role_and_search_by_name(world, login):
    add_member(world.org, "inv@example.test", status=MemberStatus.INVITED)
    add_member(world.org, "rev-admin@example.test", status=MemberStatus.REVOKED, role="admin")
    world.bob.name = "Xanthippe Tables"  # no name the factory's Faker makes contains it
    world.bob.save()
    client = login(world.alice)
    rows = listed(client.get(url("org_members", world.org), {"status": "invited"}))
    assert "inv@example.test" in rows and "bob@example.test" not in rows
    rows = listed(client.get(url("org_members", world.org), {"role": "admin"}))
    assert "rev-admin@example.test" in rows and "admin@example.test" in rows
    assert "bob@example.test" not in rows
    rows = listed(client.get(url("org_members", world.org), {"role": "admin", "status": "revoked"}))
    assert "rev-admin@example.test" in rows and ">admin@example.test" not in rows
    rows = listed(client.get(url("org_members", world.org), {"q": "xanthippe"}))
    assert "bob@example.test" in rows and "alice@example.test" not in rows
    # A forged filter value filters nothing, and is no error.
    assert client.get(url("org_members", world.org), {"status": "boss"}).status_code == 200


def test_pagination_keeps_the_filters(world, login):
    for n in range(30):
        add_member(world.org, f"zz{n:02d}@example.test", status=MemberStatus.INVITED)
    response = login(world.alice).get(url("org_members", world.org), {"status": "invited"})
    assert "Page 1 of 2" in response.content.decode()
    assert "status=invited&amp;page=2" in response.content.decode()


def test_checkboxes_only_for_members_the_actor_may_manage(world, login):
    response = login(world.custom).get(url("org_members", world.org))
    rows = listed(response)
    assert f'value="{member(world, world.bob).pk}"' in rows
    assert f'value="{member(world, world.org_admin).pk}"' not in rows  # an admin
    assert f'value="{member(world, world.alice).pk}"' not in rows  # an owner
    assert f'value="{member(world, world.custom).pk}"' not in rows  # themself
    assert 'value="confirm"' in response.content.decode()


def test_a_member_with_only_the_view_sees_no_actions(world, login):
    # Nobody holds MEMBERS_VIEW without MEMBERS_MANAGE today; a page where no row is
    # manageable shows no bulk form at all.
    lone = factories.OrganizationFactory()
    owner = factories.MembershipFactory(org=lone, role=MemberRole.OWNER)
    response = login(owner.user).get(url("org_members", lone))
    assert 'name="action"' not in response.content.decode()
    assert not response.context["can_bulk"]


def test_bulk_confirm_counts_what_was_done_and_why_the_rest_was_skipped(world, login):
    ann = add_member(world.org, "ann@example.test", status=MemberStatus.ACCEPTED)
    ben = add_member(world.org, "ben@example.test", status=MemberStatus.ACCEPTED)
    inv = add_member(world.org, "inv@example.test", status=MemberStatus.INVITED)
    response = login(world.org_admin).post(
        url("org_members_bulk", world.org),
        {"action": "confirm", "members": [ann.pk, ben.pk, inv.pk]},
        follow=True,
    )
    assert page_messages(response) == [
        "2 confirmed; 1 skipped: inv@example.test has not accepted the invitation yet "
        "(invited); only members who accepted can be confirmed."
    ]
    assert set(
        Membership.objects.filter(status=MemberStatus.CONFIRMED).values_list("email", flat=True)
    ) >= {"ann@example.test", "ben@example.test"}
    assert Event.objects.filter(type=EventType.MEMBER_CONFIRMED).count() == 2


def test_bulk_revoke_and_restore(world, login):
    bob = member(world, world.bob)
    client = login(world.alice)
    response = client.post(
        url("org_members_bulk", world.org), {"action": "revoke", "members": [bob.pk]}, follow=True
    )
    assert page_messages(response) == ["1 revoked."]
    response = client.post(
        url("org_members_bulk", world.org),
        {"action": "restore", "members": [bob.pk, member(world, world.custom).pk]},
        follow=True,
    )
    assert page_messages(response) == ["1 restored; 1 skipped: custom@example.test is not revoked."]
    bob.refresh_from_db()
    assert bob.status == MemberStatus.CONFIRMED


def test_resend_sends_a_new_link_to_invited_rows_only(
    world, login, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        login(world.alice).post(
            url("org_members_invite", world.org), {"emails": "ann@new.test", "role": "user"}
        )
    ann = Membership.objects.get(email="ann@new.test")
    first_hash = Invitation.objects.get(membership=ann).token_hash
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.alice).post(
            url("org_members_bulk", world.org),
            {"action": "resend", "members": [ann.pk, member(world, world.bob).pk]},
            follow=True,
        )
    assert page_messages(response) == [
        "1 invitation resent; 1 skipped: bob@example.test is not waiting for an invitation."
    ]
    assert [message.to for message in mail.outbox] == [["ann@new.test"]]
    assert Invitation.objects.get(membership=ann).token_hash != first_hash
    assert Event.objects.filter(type=EventType.MEMBER_INVITED, details__resent=True).count() == 1


def test_another_orgs_member_in_a_bulk_action_changes_nothing(world, login):
    theirs = member(world, world.charlie, world.other_org)
    bob = member(world, world.bob)
    response = login(world.alice).post(
        url("org_members_bulk", world.org),
        {"action": "revoke", "members": [bob.pk, theirs.pk]},
        follow=True,
    )
    assert "not in this organization any more. Nothing was changed" in page_messages(response)[0]
    assert set(Membership.objects.values_list("status", flat=True)) == {MemberStatus.CONFIRMED}


def test_bulk_without_ticks_or_action_says_why(world, login):
    client = login(world.alice)
    response = client.post(url("org_members_bulk", world.org), {"action": "revoke"}, follow=True)
    assert page_messages(response) == ["Tick the members to act on."]
    response = client.post(
        url("org_members_bulk", world.org),
        {"action": "promote", "members": [member(world, world.bob).pk]},
        follow=True,
    )
    assert page_messages(response) == ["Choose an action."]


def add_rows(org, count):
    group = factories.GroupFactory(org=org)
    for n in range(count):
        row = add_member(org, f"row{org.memberships.count()}-{n}@example.test")
        group.members.add(row)
        factories.CollectionMemberGrantFactory(
            collection=factories.CollectionFactory(org=org), membership=row
        )


@pytest.mark.parametrize("who", ["alice", "custom", "provider_admin"])
def test_members_page_queries_do_not_grow_with_rows(world, login, django_assert_num_queries, who):
    client = login(getattr(world, who))
    client.get(url("org_overview", world.org))  # a provider's first entry is logged once
    # Session, user, the org with the actor's ties (one query), count, page; a custom
    # role's collection levels (the layout's "Collections" link) one more.
    queries = {"alice": 5, "custom": 6, "provider_admin": 5}[who]
    add_rows(world.org, 1)  # 5 members
    with django_assert_num_queries(queries):
        assert client.get(url("org_members", world.org)).status_code == 200
    add_rows(world.org, 35)  # 40 members, a full page of 25
    with django_assert_num_queries(queries):
        assert client.get(url("org_members", world.org)).status_code == 200


def cells(response, email) -> list[str]:
    """The cells of the row listing `email`: tick box, member, role, status, two-step login,
    groups, collections."""
    row = next(row for row in listed(response).split("<tr>") if f">{email}<" in row)
    return re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)


def test_each_row_shows_its_own_counts_two_step_state_and_expired_invitation(world, login):
    bob = member(world, world.bob)
    for name in ("One", "Two"):
        factories.GroupFactory(org=world.org, name=name).members.add(bob)
    factories.CollectionMemberGrantFactory(  # a second direct grant: the world gave one
        collection=factories.CollectionFactory(org=world.org), membership=bob
    )
    TOTPDevice.objects.create(user=world.bob, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=world.org_admin, name="not confirmed", confirmed=False)
    lapsed = add_member(world.org, "lapsed@example.test", status=MemberStatus.INVITED)
    factories.InvitationFactory(membership=lapsed, expires_at=timezone.now() - timedelta(days=1))
    waiting = add_member(world.org, "waiting@example.test", status=MemberStatus.INVITED)
    factories.InvitationFactory(membership=waiting)

    response = login(world.alice).get(url("org_members", world.org))

    bob_row = cells(response, "bob@example.test")
    assert bob_row[4] == "On" and bob_row[5:] == ["2", "2"]
    admin_row = cells(response, "admin@example.test")
    assert "Off" in admin_row[4] and admin_row[5:] == ["0", "0"]
    assert "status-expired" in cells(response, "lapsed@example.test")[3]
    assert "status-expired" not in cells(response, "waiting@example.test")[3]
    assert "—" in cells(response, "waiting@example.test")[4]  # no account yet


def test_pages_keep_the_list_order_with_filters_and_search(world, login):
    for n in range(30):
        add_member(world.org, f"p{29 - n:02d}@example.test", status=MemberStatus.ACCEPTED)
    add_member(world.org, "p99@example.test", status=MemberStatus.REVOKED)
    client = login(world.alice)
    shown = []
    for number in (1, 2):
        page = client.get(
            url("org_members", world.org), {"status": "accepted", "q": "P", "page": number}
        ).context["page"]
        assert page.paginator.count == 30
        shown += [row.email for row in page.object_list]
    assert shown == [f"p{n:02d}@example.test" for n in range(30)]
    page = client.get(url("org_members", world.org), {"page": 2}).context["page"]
    assert page.paginator.count == 35  # the world's four, the thirty and the revoked one
    in_order = world.org.memberships.order_by("email", "pk").values_list("email", flat=True)
    assert [row.email for row in page.object_list] == list(in_order)[25:]


def test_the_count_reads_plain_rows_and_the_shown_figures_only_the_page(world, login):
    add_rows(world.org, 30)
    client = login(world.alice)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url("org_members", world.org), {"page": 2}).status_code == 200
    count, rows = [
        query["sql"]
        for query in captured.captured_queries
        if '"clients_membership"' in query["sql"] and "actor_membership" not in query["sql"]
    ]
    # The count: the memberships alone, no joins to groups or grants, no per-row subquery.
    assert count.startswith("SELECT COUNT(*)")
    assert "JOIN" not in count and "EXISTS" not in count
    # The page: its ids chosen first (34 members, 9 on page 2), then the figures of those
    # rows only: per-row subqueries, no join of every membership's groups and grants.
    assert " IN (SELECT " in rows and "LIMIT 9 OFFSET 25) ORDER BY" in rows
    assert 'JOIN "clients_group_members"' not in rows
    assert 'JOIN "clients_collectionmembergrant"' not in rows
