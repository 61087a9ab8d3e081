"""Policies that act on every request of a signed-in member.

Both are decided at sign-in and kept in the session, so most requests cost no query:
- "enforce at login" (master password requirements): change the password first;
- vault timeout (the session_used hook): an idle session locks or logs out. Which
  timeout binds a session is decided again at most every `BINDING_REFRESH` seconds
  (two queries), so a policy switched on, changed or off, and a membership that
  begins or ends, reach sessions already open within that time.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

# Set at sign-in when a policy with "enforce at login" finds the password short: the
# session's password fingerprint then. Cleared once the password has changed.
PASSWORD_CHANGE_SESSION_KEY = "policy_password_change_required"
# Set at sign-in for a member bound by a vault timeout: [minutes, action].
TIMEOUT_SESSION_KEY = "policy_vault_timeout"
LAST_SEEN_SESSION_KEY = "policy_last_seen"
LOCKED_SESSION_KEY = "policy_session_locked"
# The last-seen stamp is written at most this often, not on every request.
LAST_SEEN_RESOLUTION = 30
# When the session's binding timeout was last decided; decided again after this long.
BINDING_CHECKED_SESSION_KEY = "policy_binding_checked"
BINDING_REFRESH = 60

_ALWAYS_OPEN = ("password_change", "password_change_done", "logout", "session_unlock")


def require_password_change(request, user) -> None:
    """Called by the login form after both steps passed (the `login` hook's outcome)."""
    request.session[PASSWORD_CHANGE_SESSION_KEY] = user.get_session_auth_hash()


def note_sign_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver: the vault timeout that binds this session, if any."""
    if request is None or not hasattr(request, "session"):
        return
    request.session.pop(LOCKED_SESSION_KEY, None)
    _bind(request.session, _binding_timeout(user), now=int(time.time()), fresh=True)


def _binding_timeout(user) -> list | None:
    """[minutes, action] of the vault timeout that binds `user` now, or None."""
    from .selectors import binding_settings
    from .types import policy_type_for

    timeout = None
    for key, settings in binding_settings(user=user).items():
        timeout = policy_type_for(key).session_timeout(settings=settings) or timeout
    return list(timeout) if timeout is not None else None


def _bind(session, timeout: list | None, *, now: int, fresh: bool) -> None:
    """Keep `timeout` in the session. A session newly bound (or just signed in) starts
    its idle time now; one already bound keeps counting from its last request."""
    session[BINDING_CHECKED_SESSION_KEY] = now
    if timeout is None:
        session.pop(TIMEOUT_SESSION_KEY, None)
        session.pop(LOCKED_SESSION_KEY, None)
        return
    if fresh or TIMEOUT_SESSION_KEY not in session:
        session[LAST_SEEN_SESSION_KEY] = now
    if session.get(TIMEOUT_SESSION_KEY) != timeout:
        session[TIMEOUT_SESSION_KEY] = timeout


def session_unlocked(request) -> None:
    request.session.pop(LOCKED_SESSION_KEY, None)
    request.session[LAST_SEEN_SESSION_KEY] = int(time.time())


class PolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.open_paths = None

    def __call__(self, request):
        session = request.session
        self._refresh_binding(request)
        if PASSWORD_CHANGE_SESSION_KEY in session or TIMEOUT_SESSION_KEY in session:
            if request.user.is_authenticated:
                answer = self._timeout(request) or self._password_change(request)
                if answer is not None:
                    return answer
        return self.get_response(request)

    def _refresh_binding(self, request) -> None:
        """Decide again which vault timeout binds a signed-in session, once a minute."""
        checked = request.session.get(BINDING_CHECKED_SESSION_KEY)
        if checked is None and not request.session.session_key:
            return  # no session yet: nobody is signed in, and nothing to ask
        now = int(time.time())
        if checked is not None and now - checked < BINDING_REFRESH:
            return
        if not request.user.is_authenticated:
            return
        _bind(request.session, _binding_timeout(request.user), now=now, fresh=False)

    def _timeout(self, request):
        timeout = request.session.get(TIMEOUT_SESSION_KEY)
        if not timeout:
            return None
        minutes, action = timeout
        now = int(time.time())
        if request.session.get(LOCKED_SESSION_KEY):
            return None if self._open(request.path) else self._to_unlock(request)
        idle = now - request.session.get(LAST_SEEN_SESSION_KEY, now)
        if idle > minutes * 60:
            if action == "logout":
                logout(request)
                messages.info(request, "You were signed out after being idle. Sign in again.")
                return redirect("login")
            request.session[LOCKED_SESSION_KEY] = True
            return None if self._open(request.path) else self._to_unlock(request)
        if idle >= LAST_SEEN_RESOLUTION:
            request.session[LAST_SEEN_SESSION_KEY] = now
        return None

    def _to_unlock(self, request):
        messages.info(request, "Your session locked after being idle. Enter your password.")
        return redirect(
            f"{reverse('session_unlock')}?{urlencode({'next': request.get_full_path()})}"
        )

    def _password_change(self, request):
        required = request.session.get(PASSWORD_CHANGE_SESSION_KEY)
        if not required:
            return None
        if required != request.user.get_session_auth_hash():  # changed since sign-in
            del request.session[PASSWORD_CHANGE_SESSION_KEY]
            return None
        if self._open(request.path):
            return None
        messages.info(
            request,
            "Your organization's policy asks for a stronger password. Change it to continue.",
        )
        return redirect("password_change")

    def _open(self, path: str) -> bool:
        if self.open_paths is None:
            self.open_paths = {reverse(name) for name in _ALWAYS_OPEN}
        return path in self.open_paths or path.startswith("/static/")
