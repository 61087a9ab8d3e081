"""Which sessions have passed two-step login.

The portal's login asks for the code with the password. Whatever else signs someone
in (the admin site, an invitation, any later way in) goes through `login()`, which
notes here whether the account had two-step login on; `TwoStepMiddleware` then ends
any session of such an account that has not passed the second step (django-otp's
`is_verified()`).
"""

from __future__ import annotations

import os
from base64 import b32encode

import segno
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from .selectors import two_step_device

# Set at sign-in when the account has no second step, so that its requests need not ask
# the database again. Cleared at a sign-in of an account that has one.
NO_SECOND_STEP_SESSION_KEY = "two_step_off_at_sign_in"
# Set when a provider that requires two-step login finds this session without it: at
# sign-in, or by the permission layer when the setting was switched on later. Until the
# session has passed a second step, TwoStepMiddleware sends it to the enrolment page.
PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY = "two_step_required_by_provider"
PROVIDER_REQUIRES_TWO_STEP_MESSAGE = (
    "Your provider requires two-step login. Turn it on to continue."
)


def note_sign_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver (connected in PortalConfig.ready)."""
    if two_step_device(user) is None:
        request.session[NO_SECOND_STEP_SESSION_KEY] = True
        if provider_requires_two_step(user):
            request.session[PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY] = True
        else:
            request.session.pop(PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY, None)
    else:
        request.session.pop(NO_SECOND_STEP_SESSION_KEY, None)
        request.session.pop(PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY, None)


def provider_requires_two_step(user) -> bool:
    """Whether a provider that requires two-step login has `user` as confirmed staff."""
    from providers.models import ProviderUser, ProviderUserStatus

    return ProviderUser.objects.filter(
        user=user, status=ProviderUserStatus.CONFIRMED, provider__require_two_step=True
    ).exists()


def provider_two_step_missing(request, provider) -> bool:
    """For a provider user's request: True (and noted in the session, so that every page
    then sends them to enrol) when `provider` requires two-step login and this session
    has not passed it. Called where the provider row is already loaded: no query."""
    if not provider.require_two_step or request.user.is_verified():
        return False
    request.session[PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY] = True
    return True


def session_passed_two_step(request) -> bool:
    """For a signed-in request: True unless its account has a second step it skipped."""
    if request.session.get(NO_SECOND_STEP_SESSION_KEY):
        return True
    return request.user.is_verified() or two_step_device(request.user) is None


def second_step_passed(request, device) -> None:
    """The session has passed the second step with `device` (e.g. just after turning it on)."""
    otp_login(request, device)
    request.session.pop(NO_SECOND_STEP_SESSION_KEY, None)


# --- Recovery codes: one-time codes for a lost authenticator (django-otp's static tokens) ---

RECOVERY_DEVICE_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10
# 16 base32 characters (80 random bits), shown in groups of four: abcd-efgh-ijkl-mnop.
RECOVERY_CODE_LENGTH = 16


def new_recovery_code() -> str:
    return b32encode(os.urandom(10)).decode().lower()[:RECOVERY_CODE_LENGTH]


def format_recovery_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize_code(typed: str) -> str:
    """What the user typed, without spaces or dashes, lower case (recovery codes)."""
    return "".join(ch for ch in typed if ch.isalnum()).lower()


def looks_like_authenticator_code(code: str) -> bool:
    """Digits only: the app's code. Recovery codes have letters (base32), bar 1 in 10^11."""
    return code.isascii() and code.isdigit()


def recovery_device(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def qr_code_svg(config_url: str) -> str:
    """The otpauth:// link as an inline SVG QR code, drawn here (no script, no CDN)."""
    qr = segno.make(config_url, error="m")
    return qr.svg_inline(
        scale=4,
        border=4,
        light="#fff",
        title="QR code of the two-step login key",
        svgclass="qr-code",
    )
