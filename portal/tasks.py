"""Tasks take ids, re-fetch, and return quietly when the row is gone."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .accounts import invitation_url
from .models import Invitation
from .services import (
    invitation_claim_reminder,
    invitation_issue_token,
    invitations_due_a_reminder,
    invitations_record_expiry,
)


def send_templated_email(*, template: str, to: str, context: dict) -> None:
    """Send templates/emails/<template>_{subject,body}.txt and _body.html."""
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    text = render_to_string(f"emails/{template}_body.txt", context)
    html = render_to_string(f"emails/{template}_body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()


@shared_task
def send_invitation(invitation_id: str) -> None:
    invitation = (
        Invitation.objects.select_related(
            "membership__org", "provider_user__provider", "invited_by"
        )
        .filter(pk=invitation_id, used_at__isnull=True)
        .first()
    )
    if invitation is None:
        return
    token = invitation_issue_token(invitation=invitation)
    if invitation.membership_id:
        target = invitation.membership.org.name
    else:
        target = invitation.provider_user.provider.name
    send_templated_email(
        template="invitation",
        to=invitation.email,
        context={
            "invitation": invitation,
            "target_name": target,
            "accept_url": invitation_url(token),
        },
    )


@shared_task
def send_invitation_reminders() -> int:
    """Run by Celery beat: one reminder per invitation, 3 days after its email, to invitees
    who have not accepted. Each is claimed before it is sent, so none goes out twice."""
    sent = 0
    for invitation_id in invitations_due_a_reminder().values_list("pk", flat=True).iterator():
        if invitation_claim_reminder(invitation_id=invitation_id):
            send_invitation_reminder(str(invitation_id))
            sent += 1
    return sent


@shared_task
def record_expired_invitations() -> int:
    """Run by Celery beat: each invitation that expired unused gets one "invitation expired"
    event in the log of its org or provider, once (a resend starts a new life)."""
    return invitations_record_expiry()


def send_invitation_reminder(invitation_id: str) -> None:
    """The reminder carries a fresh link (the earlier one stops working, as with a resend)
    but the invitation keeps its expiry: a reminder does not extend it."""
    invitation = (
        Invitation.objects.select_related(
            "membership__org", "provider_user__provider", "invited_by"
        )
        .filter(pk=invitation_id, used_at__isnull=True)
        .first()
    )
    if invitation is None or not invitation.is_usable:
        return
    token = invitation_issue_token(invitation=invitation, keep_expiry=True)
    if invitation.membership_id:
        target = invitation.membership.org.name
    else:
        target = invitation.provider_user.provider.name
    send_templated_email(
        template="invitation_reminder",
        to=invitation.email,
        context={
            "invitation": invitation,
            "target_name": target,
            "accept_url": invitation_url(token),
        },
    )
