"""Request-wide plumbing: two-step login, the client address for the event log, error pages."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from .client_address import client_ip
from .events import current_ip_address
from .two_step import (
    PROVIDER_REQUIRES_TWO_STEP_MESSAGE,
    PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY,
    provider_requires_two_step,
    session_passed_two_step,
)

# What a provider user who must turn two-step login on may still reach.
_OPEN_WITHOUT_TWO_STEP = ("two_step", "two_step_recovery_codes", "logout", "healthz")


class TwoStepMiddleware:
    """End a session that skipped the second step of an account that has it on.

    However it began (the admin site's login, an invitation, a way in added later), such
    a session reaches nothing: it is signed out and sent to the portal's login, which
    asks for the password and the code.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.open_paths = None

    def __call__(self, request):
        if request.user.is_authenticated and not session_passed_two_step(request):
            logout(request)
            messages.info(request, "Sign in with your password and your two-step login code.")
            if request.method == "GET":
                return redirect_to_login(request.get_full_path())
            return redirect("login")
        if PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY in request.session:
            answer = self._provider_requires_two_step(request)
            if answer is not None:
                return answer
        return self.get_response(request)

    def _provider_requires_two_step(self, request):
        """A provider requires two-step login of this session's user: enrol first."""
        if not request.user.is_authenticated or request.user.is_verified():
            del request.session[PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY]
            return None
        if self.open_paths is None:
            self.open_paths = {reverse(name) for name in _OPEN_WITHOUT_TWO_STEP}
        if request.path in self.open_paths or request.path.startswith("/static/"):
            return None
        # Asked again (marked sessions only): the setting may have been switched off, or
        # the user taken off the staff, since the mark.
        if not provider_requires_two_step(request.user):
            del request.session[PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY]
            return None
        messages.info(request, PROVIDER_REQUIRES_TWO_STEP_MESSAGE)
        return redirect("two_step")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip_address.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip_address.reset(token)


class ErrorPageMiddleware:
    """Django answers 405 with an empty body; give it the portal's own page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            allowed = response.get("Allow", "")
            response = render(request, "405.html", {"allowed": allowed}, status=405)
            response["Allow"] = allowed
        return response


class NoStoreForSignedInMiddleware:
    """What a signed-in user sees names people, clients and settings: no browser or proxy
    cache keeps a copy (nor shows it on the back button after signing out). Vault pages and
    CSV exports say so themselves too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class HeadAsGetMiddleware:
    """HEAD is GET without the body (RFC 9110), so every page that answers GET answers HEAD:
    uptime monitors use it, and `require_GET` / `require_http_methods(["GET", ...])` would
    otherwise refuse it with 405. A view that refuses GET still refuses HEAD."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = request.META["REQUEST_METHOD"] = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = request.META["REQUEST_METHOD"] = "HEAD"
        if response.streaming:
            if hasattr(response, "close"):
                response.close()
            response.streaming_content = []
        else:
            # The inner CommonMiddleware already gave the GET body's Content-Length.
            response.content = b""
        return response
