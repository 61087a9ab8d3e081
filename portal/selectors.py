"""Account-level reads."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice


def two_step_device(user) -> TOTPDevice | None:
    """The user's confirmed authenticator, when two-step login is on."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()
