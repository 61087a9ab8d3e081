"""Operator-issued set-password links for accounts that have no password yet."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def set_password_url(user) -> str:
    """A one-use link (valid PASSWORD_RESET_TIMEOUT) to set the user's password."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.PORTAL_BASE_URL.rstrip("/") + path
