from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice


def policies_url(org) -> str:
    return reverse("org_policies", kwargs={"org_id": org.pk})


def edit_url(org, key: str) -> str:
    return reverse("org_policy_edit", kwargs={"org_id": org.pk, "policy_key": key})


def give_two_step(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
