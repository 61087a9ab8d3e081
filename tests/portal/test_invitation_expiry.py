"""The invitation-expiry job (Celery beat, hourly): each invitation that expired unused gets
one "invitation expired" event in the log of the org or provider it was for, once.

The link itself already stops working at its expiry (checked on use); the job only writes
the log, so owners see when an invitee let the link lapse. A resend gives the invitation a
new life, and a later expiry of that life is recorded again.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clients.models import MemberStatus
from portal.models import Event, EventType, Invitation
from portal.services import (
    INVITATION_LIFETIME,
    hash_token,
    invitation_find,
    invitations_record_expiry,
)
from portal.tasks import record_expired_invitations, send_invitation
from providers.models import ProviderUserStatus
from tests import factories

pytestmark = pytest.mark.django_db

EXPIRED = EventType.MEMBER_INVITATION_EXPIRED
STAFF_EXPIRED = EventType.PROVIDER_USER_INVITATION_EXPIRED


def invited_member(org, email: str, *, expired_days_ago: float) -> Invitation:
    """An invited member whose emailed link expires (expired) `expired_days_ago` days ago
    (negative: still that many days to go)."""
    membership = factories.MembershipFactory(
        org=org, user=None, email=email, status=MemberStatus.INVITED
    )
    return _with_expiry(
        factories.InvitationFactory(membership=membership, email=email), expired_days_ago
    )


def invited_staff(provider, email: str, *, expired_days_ago: float) -> Invitation:
    provider_user = factories.ProviderUserFactory(
        provider=provider, user=None, email=email, status=ProviderUserStatus.INVITED
    )
    invitation = factories.InvitationFactory(
        membership=None, provider_user=provider_user, email=email
    )
    return _with_expiry(invitation, expired_days_ago)


def _with_expiry(invitation: Invitation, expired_days_ago: float) -> Invitation:
    expires_at = timezone.now() - timedelta(days=expired_days_ago)
    Invitation.objects.filter(pk=invitation.pk).update(
        token_hash=hash_token(f"token-{invitation.pk}"),
        created_at=expires_at - INVITATION_LIFETIME,
        expires_at=expires_at,
    )
    invitation.refresh_from_db()
    return invitation


def test_an_expired_member_invitation_is_recorded_once_in_the_org_log(world):
    invitation = invited_member(world.org, "late@example.test", expired_days_ago=1)
    assert invitations_record_expiry() == 1
    (event,) = Event.objects.filter(type=EXPIRED)
    assert event.org == world.org and event.provider is None
    assert event.actor is None and event.acting_provider is None  # the log says "system"
    assert (event.object_type, event.object_id) == ("membership", str(invitation.membership_id))
    assert event.details == {
        "email": "late@example.test",
        "expired_at": invitation.expires_at.isoformat(),
    }
    invitation.refresh_from_db()
    assert invitation.expiry_recorded_at is not None
    # Idempotent: later runs record nothing more.
    assert invitations_record_expiry() == 0
    assert invitations_record_expiry() == 0
    assert Event.objects.filter(type=EXPIRED).count() == 1


def test_a_provider_user_invitation_is_recorded_in_the_provider_log(world):
    invitation = invited_staff(world.provider, "staff@msp.test", expired_days_ago=0.5)
    assert invitations_record_expiry() == 1
    (event,) = Event.objects.filter(type=STAFF_EXPIRED)
    assert event.provider == world.provider and event.org is None and event.actor is None
    assert event.object_id == str(invitation.provider_user_id)
    assert event.details["email"] == "staff@msp.test"
    assert not Event.objects.filter(type=EXPIRED).exists()


def test_only_invitations_that_expired_unused_for_a_still_invited_invitee(world):
    invited_member(world.org, "young@example.test", expired_days_ago=-1)  # 1 day to go
    used = invited_member(world.org, "used@example.test", expired_days_ago=1)
    Invitation.objects.filter(pk=used.pk).update(used_at=used.expires_at - timedelta(hours=1))
    accepted = invited_member(world.org, "accepted@example.test", expired_days_ago=1)
    accepted.membership.status = MemberStatus.ACCEPTED
    accepted.membership.save()
    revoked = invited_member(world.org, "revoked@example.test", expired_days_ago=1)
    revoked.membership.status = MemberStatus.REVOKED
    revoked.membership.save()
    staff_accepted = invited_staff(world.provider, "in@msp.test", expired_days_ago=1)
    staff_accepted.provider_user.status = ProviderUserStatus.ACCEPTED
    staff_accepted.provider_user.save()
    expired = invited_member(world.org, "expired@example.test", expired_days_ago=0.01)
    assert invitations_record_expiry() == 1
    (event,) = Event.objects.filter(type__in=[EXPIRED, STAFF_EXPIRED])
    assert event.object_id == str(expired.membership_id)
    assert list(Invitation.objects.filter(expiry_recorded_at__isnull=False)) == [expired]


def test_the_job_works_in_batches_and_records_each_invitation_once(world):
    emails = [f"late{n}@example.test" for n in range(5)]
    for n, email in enumerate(emails):
        invited_member(world.org, email, expired_days_ago=1 + n)
    invited_staff(world.provider, "staff@msp.test", expired_days_ago=1)
    assert invitations_record_expiry(batch_size=2) == 6
    recorded = Event.objects.filter(type=EXPIRED).values_list("details__email", flat=True)
    assert sorted(recorded) == sorted(emails)
    assert Event.objects.filter(type=STAFF_EXPIRED).count() == 1
    assert invitations_record_expiry(batch_size=2) == 0
    assert not Invitation.objects.filter(expiry_recorded_at__isnull=True).exists()


def test_the_expired_link_still_says_so_and_a_resend_starts_a_new_life(world, client):
    invitation = invited_member(world.org, "late@example.test", expired_days_ago=1)
    invitations_record_expiry()
    # The old link: refused as expired, as before the job ran.
    response = client.get(reverse("invitation_open"), {"token": f"token-{invitation.pk}"})
    assert response.status_code == 410
    assert "has already been used or has expired" in response.content.decode()
    # A resend (what the members page enqueues): a new link, a new expiry to record.
    mail.outbox.clear()
    send_invitation(str(invitation.pk))
    invitation.refresh_from_db()
    assert invitation.is_usable and invitation.expiry_recorded_at is None
    token = mail.outbox[0].body.split("?token=")[1].split()[0]
    assert invitation_find(token).pk == invitation.pk
    assert invitations_record_expiry() == 0  # the new life has not expired
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    assert invitations_record_expiry() == 1
    assert Event.objects.filter(type=EXPIRED).count() == 2


def test_a_reminder_does_not_clear_the_record(world):
    """A reminder keeps the invitation's expiry, so it keeps its record too."""
    from portal.services import invitation_issue_token

    invitation = invited_member(world.org, "late@example.test", expired_days_ago=1)
    invitations_record_expiry()
    invitation.refresh_from_db()
    invitation_issue_token(invitation=invitation, keep_expiry=True)
    invitation.refresh_from_db()
    assert invitation.expiry_recorded_at is not None
    assert invitations_record_expiry() == 0


def test_owners_see_the_expiry_in_the_org_event_log(world, login):
    invited_member(world.org, "late@example.test", expired_days_ago=1)
    assert record_expired_invitations.delay().get() == 1  # the task, as beat sends it
    response = login(world.alice).get(
        reverse("org_events", args=[world.org.pk]), {"type": EXPIRED.value}
    )
    assert response.status_code == 200
    table = response.content.decode().split("<tbody>")[1]
    rows = [row for row in table.split("<tr>") if "invitation expired" in row]
    assert len(rows) == 1
    assert "<td>Member&#x27;s invitation expired</td>" in rows[0]
    assert "<td>system</td>" in rows[0] and "Member: late@example.test" in rows[0]


def test_provider_admins_see_staff_expiry_in_the_provider_log(world, login):
    invited_staff(world.provider, "staff@msp.test", expired_days_ago=1)
    invitations_record_expiry()
    response = login(world.provider_admin).get(reverse("provider_events", args=[world.provider.pk]))
    page = response.content.decode()
    assert "Provider user&#x27;s invitation expired" in page and "staff@msp.test" in page


def test_beat_runs_the_expiry_job_hourly():
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["portal.tasks.record_expired_invitations"] == 60 * 60
