"""Two runs of the reminder job at the same moment send one reminder, not two.

Needs real row locks, so Postgres (SQLite serialises whole-database writes)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from portal.models import Invitation
from portal.services import INVITATION_LIFETIME, hash_token, invitation_claim_reminder
from tests import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres row locks (set DATABASE_URL=postgres://...)",
    ),
]


def test_a_reminder_claimed_in_an_open_transaction_is_not_claimed_again(world):
    invitation = factories.InvitationFactory(email="race@example.test")
    sent_at = timezone.now() - timedelta(days=3, hours=1)
    Invitation.objects.filter(pk=invitation.pk).update(
        token_hash=hash_token("t"), expires_at=sent_at + INVITATION_LIFETIME
    )
    first_claimed = threading.Event()
    outcomes: dict[str, bool] = {}

    def first():
        try:
            with transaction.atomic():
                outcomes["first"] = invitation_claim_reminder(invitation_id=invitation.pk)
                first_claimed.set()
                time.sleep(0.5)  # the second run reads "due" now and waits for this row
        finally:
            connections.close_all()

    def second():
        try:
            first_claimed.wait(5)
            outcomes["second"] = invitation_claim_reminder(invitation_id=invitation.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcomes == {"first": True, "second": False}
