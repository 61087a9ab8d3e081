"""The expiry job passes over invitations another transaction holds (a resend, or a second
run of the job) instead of waiting for them or recording them twice.

Needs real row locks, so Postgres (SQLite serialises whole-database writes)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from clients.models import MemberStatus
from portal.models import Event, EventType, Invitation
from portal.services import invitations_record_expiry
from tests import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres row locks (set DATABASE_URL=postgres://...)",
    ),
]


def expired_invitation(org, email: str) -> Invitation:
    membership = factories.MembershipFactory(
        org=org, user=None, email=email, status=MemberStatus.INVITED
    )
    return factories.InvitationFactory(
        membership=membership, email=email, expires_at=timezone.now() - timedelta(hours=1)
    )


def test_a_held_invitation_is_skipped_then_recorded_by_the_next_run(world):
    held = expired_invitation(world.org, "held@example.test")
    free = expired_invitation(world.org, "free@example.test")
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                Invitation.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(5)
        started = time.monotonic()
        assert invitations_record_expiry() == 1
        assert time.monotonic() - started < 2  # did not wait for the held row
    finally:
        release.set()
        holder.join(10)
    recorded = Event.objects.filter(type=EventType.MEMBER_INVITATION_EXPIRED)
    assert list(recorded.values_list("object_id", flat=True)) == [str(free.membership_id)]
    assert invitations_record_expiry() == 1
    assert invitations_record_expiry() == 0
    assert sorted(recorded.values_list("object_id", flat=True)) == sorted(
        [str(free.membership_id), str(held.membership_id)]
    )
