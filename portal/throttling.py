"""Sign-in throttling: the policy that django-axes applies (README, "Sign-in throttling").

Failures are counted per account and client address (`client_address.client_ip`),
within the cool-off (`AXES_COOLOFF_HOURS`), and wrong passwords and wrong second-step
codes count alike. `AXES_FAILURE_LIMIT` failures lock:

- the account from that address, and
- the account from every address it has not signed in from in `KNOWN_ADDRESS_DAYS`,
  counting its failures from all addresses together.

So a guesser gets that many tries per cool-off at one account however many addresses
they use, and someone hammering an account cannot lock its owner out of the addresses
the owner signs in from: the sole provider admin still gets in from their usual place.
"""

from __future__ import annotations

from datetime import timedelta

from axes.helpers import get_client_username
from axes.models import AccessBase, AccessLog
from django.contrib.auth.signals import user_login_failed
from django.utils import timezone

from .client_address import client_ip

KNOWN_ADDRESS_DAYS = 90
PER_ACCOUNT_AND_ADDRESS = ["username", "ip_address"]
PER_ACCOUNT = "username"


def lockout_parameters(request_or_attempt, credentials: dict | None = None) -> list:
    """AXES_LOCKOUT_PARAMETERS: the failure counts that may lock this attempt out."""
    if isinstance(request_or_attempt, AccessBase):
        username, address = request_or_attempt.username, request_or_attempt.ip_address
    else:
        username = get_client_username(request_or_attempt, credentials)
        address = client_ip(request_or_attempt)
    if not username or is_known_address(username=username, address=address):
        return [PER_ACCOUNT_AND_ADDRESS]
    return [PER_ACCOUNT_AND_ADDRESS, PER_ACCOUNT]


def is_known_address(*, username: str, address: str | None) -> bool:
    """Whether the account signed in from this address lately (axes logs every sign-in)."""
    if address is None:
        return False
    since = timezone.now() - timedelta(days=KNOWN_ADDRESS_DAYS)
    return AccessLog.objects.filter(
        username=username, ip_address=address, attempt_time__gte=since
    ).exists()


def second_step_failed(request, user) -> None:
    """A wrong or throttled code after a right password counts as a failed sign-in."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )
