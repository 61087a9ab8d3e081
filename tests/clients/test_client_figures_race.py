"""Changes that commit at the same moment each count in the stored client figures: none
is lost to another transaction's count of the same row.

Needs real row locks, so Postgres; SQLite runs one writing transaction at a time, which
would make this test prove nothing.
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.models import ClientFigures, Membership, MemberStatus
from clients.selectors.figures import client_figures_drift
from portal.models import Invitation
from tests import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres row locks (set DATABASE_URL=postgres://...)",
    ),
]


def _at_once(*changes) -> None:
    """Run each change in its own transaction, all started together, each holding its
    transaction open a moment after writing, so that they overlap."""
    barrier = threading.Barrier(len(changes))
    errors = []

    def run(change):
        try:
            barrier.wait()
            with transaction.atomic():
                change()
                time.sleep(0.3)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(change,)) for change in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []


def test_invitations_used_at_once_are_each_counted(world):
    invited = [
        factories.MembershipFactory(
            org=world.org, user=None, email=f"i{n}@x.test", status=MemberStatus.INVITED
        )
        for n in range(4)
    ]
    invitations = [factories.InvitationFactory(membership=m) for m in invited]
    assert ClientFigures.objects.get(org=world.org).invitations_pending == 4

    def use(invitation):
        # One statement each, whose trigger recounts the org's pending invitations: the
        # recount must read what the others committed while it waited for the row.
        return lambda: Invitation.objects.filter(pk=invitation.pk).update(used_at=timezone.now())

    _at_once(*(use(i) for i in invitations))
    assert ClientFigures.objects.get(org=world.org).invitations_pending == 0
    assert client_figures_drift() == []


def test_a_member_confirmed_as_their_authenticator_is_added_is_counted_once(world):
    member = factories.MembershipFactory(org=world.org, status=MemberStatus.ACCEPTED)
    without_before = ClientFigures.objects.get(org=world.org).without_two_step

    def confirm():
        Membership.objects.filter(pk=member.pk).update(status=MemberStatus.CONFIRMED)

    def add_authenticator():
        TOTPDevice.objects.create(user=member.user, name="phone", confirmed=True)

    _at_once(confirm, add_authenticator)
    assert ClientFigures.objects.get(org=world.org).without_two_step == without_before
    assert client_figures_drift() == []


def test_many_members_changed_at_once_in_one_org(world):
    members = [factories.MembershipFactory(org=world.org) for _ in range(6)]

    def revoke(membership):
        return lambda: Membership.objects.filter(pk=membership.pk).update(
            status=MemberStatus.REVOKED
        )

    _at_once(*(revoke(m) for m in members))
    assert ClientFigures.objects.get(org=world.org).revoked == 6
    assert client_figures_drift() == []
