"""Tasks take ids, re-fetch, and return quietly when the row is gone."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Invitation
from .services import invitation_issue_token


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
            "accept_url": settings.PORTAL_BASE_URL.rstrip("/")
            + reverse("invitation_accept", kwargs={"token": token}),
        },
    )
