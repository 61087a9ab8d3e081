"""Periodic jobs on invitations: one reminder 3 days after the email, to invitees who have
not accepted; invitations expire after 5 days (and a resend issues a new one)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from clients.models import MemberStatus
from portal.models import Invitation
from portal.services import (
    INVITATION_LIFETIME,
    INVITATION_REMINDER_AFTER,
    hash_token,
    invitation_find,
)
from portal.tasks import send_invitation, send_invitation_reminders
from providers.models import ProviderUserStatus
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_lifetimes_are_as_documented():
    assert INVITATION_LIFETIME == timedelta(days=5)
    assert INVITATION_REMINDER_AFTER == timedelta(days=3)


def sent(invitation_or_none=None, *, days_ago: float, **fields) -> Invitation:
    """An invitation whose email went out `days_ago` days ago."""
    sent_at = timezone.now() - timedelta(days=days_ago)
    invitation = invitation_or_none or factories.InvitationFactory(**fields)
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=sent_at,
        token_hash=hash_token(f"first-token-{invitation.pk}"),
        expires_at=sent_at + INVITATION_LIFETIME,
    )
    invitation.refresh_from_db()
    return invitation


def test_the_reminder_goes_out_once_after_three_days(world):
    membership = factories.MembershipFactory(
        org=world.org, user=None, email="late@example.test", status=MemberStatus.INVITED
    )
    invitation = sent(membership=membership, email="late@example.test", days_ago=3.1)
    expires_at = invitation.expires_at
    mail.outbox.clear()
    assert send_invitation_reminders() == 1
    [message] = mail.outbox
    assert message.to == ["late@example.test"]
    assert "Reminder" in message.subject and "Alice Co" in message.subject
    assert "invitations/open/?token=" in message.body
    invitation.refresh_from_db()
    assert invitation.reminded_at is not None
    assert invitation.expires_at == expires_at  # a reminder does not extend the invitation
    # The reminder's link works; the first email's link no longer does.
    token = message.body.split("?token=")[1].split()[0]
    assert invitation_find(token).pk == invitation.pk
    assert invitation_find(f"first-token-{invitation.pk}") is None
    # Nothing is sent twice, however often the job runs.
    assert send_invitation_reminders() == 0
    assert send_invitation_reminders() == 0
    assert len(mail.outbox) == 1


def test_no_reminder_before_three_days_after_use_or_expiry(world):
    young = sent(days_ago=2.9, email="young@example.test")
    used = sent(days_ago=4, email="used@example.test")
    Invitation.objects.filter(pk=used.pk).update(used_at=timezone.now())
    expired = sent(days_ago=6, email="expired@example.test")
    never_emailed = factories.InvitationFactory(email="queued@example.test")
    Invitation.objects.filter(pk=never_emailed.pk).update(
        created_at=timezone.now() - timedelta(days=4)
    )
    accepted = sent(days_ago=4, email="accepted@example.test")
    accepted.membership.status = MemberStatus.ACCEPTED
    accepted.membership.save()
    mail.outbox.clear()
    assert send_invitation_reminders() == 0
    assert mail.outbox == []
    assert not Invitation.objects.filter(reminded_at__isnull=False).exists()
    assert expired.is_expired and not young.is_expired


def test_provider_user_invitations_get_the_reminder_too(world):
    provider_user = factories.ProviderUserFactory(
        provider=world.provider, user=None, status=ProviderUserStatus.INVITED
    )
    invitation = factories.InvitationFactory(
        membership=None, provider_user=provider_user, email="staff@msp.test"
    )
    sent(invitation, days_ago=3.5)
    mail.outbox.clear()
    assert send_invitation_reminders() == 1
    assert mail.outbox[0].to == ["staff@msp.test"] and "Demo MSP" in mail.outbox[0].subject


def test_a_claimed_reminder_is_not_claimed_again(world):
    """Two runs (or two workers) racing: the second claim finds reminded_at set."""
    from portal.services import invitation_claim_reminder

    invitation = sent(days_ago=3.5, email="race@example.test")
    assert invitation_claim_reminder(invitation_id=invitation.pk) is True
    assert invitation_claim_reminder(invitation_id=invitation.pk) is False


def test_an_expired_invitation_is_unusable_and_a_resend_issues_a_new_one(world):
    invitation = sent(days_ago=6, email="old@example.test")
    Invitation.objects.filter(pk=invitation.pk).update(reminded_at=timezone.now())
    invitation.refresh_from_db()
    assert invitation.is_expired and not invitation.is_usable
    mail.outbox.clear()
    send_invitation(str(invitation.pk))  # what the members page's "resend" enqueues
    invitation.refresh_from_db()
    assert not invitation.is_expired and invitation.is_usable
    assert invitation.expires_at > timezone.now() + INVITATION_LIFETIME - timedelta(minutes=1)
    assert invitation.reminded_at is None  # the new link gets its own reminder
    assert len(mail.outbox) == 1


def test_beat_runs_the_reminders_hourly():
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["portal.tasks.send_invitation_reminders"] == 60 * 60
    assert schedule["vault.tasks.purge_trash"] == 60 * 60


def test_docker_compose_runs_beat_with_the_schedule():
    from pathlib import Path

    compose = (Path(settings.BASE_DIR) / "docker-compose.yml").read_text()
    beat = compose.split("\n  beat:\n", 1)[1].split("\n  worker:", 1)[0]
    assert '"celery", "-A", "portal", "beat"' in beat
    assert "--schedule" in beat


def test_the_members_list_shows_expired_invitations(world, login):
    from django.urls import reverse

    for email, days_ago in (("old@example.test", 6), ("new@example.test", 1)):
        membership = factories.MembershipFactory(
            org=world.org, user=None, email=email, status=MemberStatus.INVITED
        )
        sent(membership=membership, email=email, days_ago=days_ago)
    response = login(world.alice).get(reverse("org_members", args=[world.org.pk]))
    rows = {member.email: member for member in response.context["page"].object_list}
    assert rows["old@example.test"].invitation_expired
    assert not rows["new@example.test"].invitation_expired
    assert not rows["alice@example.test"].invitation_expired
    assert response.content.decode().count('class="status status-expired"') == 1
