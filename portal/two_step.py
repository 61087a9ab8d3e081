"""Which sessions have passed two-step login.

The portal's login asks for the code with the password. Whatever else signs someone
in (the admin site, an invitation, any later way in) goes through `login()`, which
notes here whether the account had two-step login on; `TwoStepMiddleware` then ends
any session of such an account that has not passed the second step (django-otp's
`is_verified()`).
"""

from __future__ import annotations

from django_otp import login as otp_login

from .selectors import two_step_device

# Set at sign-in when the account has no second step, so that its requests need not ask
# the database again. Cleared at a sign-in of an account that has one.
NO_SECOND_STEP_SESSION_KEY = "two_step_off_at_sign_in"


def note_sign_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver (connected in PortalConfig.ready)."""
    if two_step_device(user) is None:
        request.session[NO_SECOND_STEP_SESSION_KEY] = True
    else:
        request.session.pop(NO_SECOND_STEP_SESSION_KEY, None)


def session_passed_two_step(request) -> bool:
    """For a signed-in request: True unless its account has a second step it skipped."""
    if request.session.get(NO_SECOND_STEP_SESSION_KEY):
        return True
    return request.user.is_verified() or two_step_device(request.user) is None


def second_step_passed(request, device) -> None:
    """The session has passed the second step with `device` (e.g. just after turning it on)."""
    otp_login(request, device)
    request.session.pop(NO_SECOND_STEP_SESSION_KEY, None)
