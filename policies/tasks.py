"""Tasks take ids, re-fetch, and return quietly when the row is gone."""

from celery import shared_task
from django.conf import settings
from django.urls import reverse

from clients.models import Membership, MemberStatus
from portal.tasks import send_templated_email

from .types import policy_type_for


@shared_task
def send_policy_revocation(membership_id: str, policy_key: str) -> None:
    """Tell a member that a policy of the org revoked them, and what to do."""
    membership = (
        Membership.objects.select_related("org")
        .filter(pk=membership_id, status=MemberStatus.REVOKED)
        .first()
    )
    policy_type = policy_type_for(policy_key)
    if membership is None or policy_type is None:
        return
    remedy_url = None
    if policy_type.remedy_url_name:
        remedy_url = settings.PORTAL_BASE_URL.rstrip("/") + reverse(policy_type.remedy_url_name)
    send_templated_email(
        template="policy_revoked",
        to=membership.email,
        context={
            "org_name": membership.org.name,
            "policy_title": policy_type.title,
            "reason": policy_type.revocation_reason,
            "remedy_url": remedy_url,
            "remedy_label": policy_type.remedy_label,
        },
    )


@shared_task
def send_account_recovered(membership_id: str) -> None:
    """Tell a member that an admin of the org set a new password for them."""
    membership = Membership.objects.select_related("org").filter(pk=membership_id).first()
    if membership is None:
        return
    send_templated_email(
        template="account_recovered",
        to=membership.email,
        context={
            "org_name": membership.org.name,
            "login_url": settings.PORTAL_BASE_URL.rstrip("/") + reverse("login"),
        },
    )


@shared_task
def apply_baseline(job_id: str) -> None:
    """Apply a provider baseline to the clients its job names (policies.baselines)."""
    from .baselines.services import baseline_job_run

    baseline_job_run(job_id=job_id)
