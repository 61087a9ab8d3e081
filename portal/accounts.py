"""Secret links: set-password links for accounts without a password, and the rules that
every page reached through a secret link (these and invitations) follows.

Web servers write every request's path to their access log, and browsers send the
current URL as `Referer`. So a secret token travels in the query string of one GET only
(the access log, see gunicorn.conf.py, records paths without query strings); that
request keeps the token in the session and redirects to a URL without it. A token in a
path is refused. A response to a URL holding a token sends `Referrer-Policy:
no-referrer`; the pages after the redirect keep the portal's `same-origin`, because with
`no-referrer` browsers send `Origin: null` with a form, which CSRF protection refuses.
None of them is cached.
"""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_GET


def no_referrer(response: HttpResponse) -> HttpResponse:
    """For a response to a URL holding a token: no Referer leaves it, nothing caches it."""
    response["Referrer-Policy"] = "no-referrer"
    add_never_cache_headers(response)
    return response


def token_url_page(view: Callable) -> Callable:
    """A view whose URL may hold a token: its answers get `no_referrer`."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return no_referrer(view(request, *args, **kwargs))

    return wrapped


def invitation_url(token: str) -> str:
    """The emailed link of an invitation; the view moves the token out of the URL."""
    query = urlencode({"token": token})
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{reverse('invitation_open')}?{query}"


def set_password_url(user) -> str:
    """A one-use link (valid PASSWORD_RESET_TIMEOUT) to set the user's password."""
    query = urlencode(
        {
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        }
    )
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{reverse('set_password_open')}?{query}"


class SetPasswordView(PasswordResetConfirmView):
    """Django's set-password form, reached only through `set_password_open`.

    Django's own view also takes the token in the path (and redirects it away); here
    the path may only hold the placeholder, so a token never appears in a path.
    """

    post_reset_login = False

    def dispatch(self, *args, **kwargs):
        if kwargs.get("token") != self.reset_url_token:
            return no_referrer(self.refuse())
        return super().dispatch(*args, **kwargs)

    def refuse(self):
        """The "link cannot be used" page; the session is left as it was."""
        self.validlink = False
        self.user = None
        return self.render_to_response(self.get_context_data())


@token_url_page
@require_GET
def set_password_open(request):
    """The link itself: keep a valid token in the session, then show the form without it."""
    view = SetPasswordView()
    view.setup(request)
    uidb64 = request.GET.get("uid", "")
    user = view.get_user(uidb64)
    token = request.GET.get("token", "")
    if user is None or not view.token_generator.check_token(user, token):
        return view.refuse()
    request.session[INTERNAL_RESET_SESSION_TOKEN] = token
    return redirect("password_reset_confirm", uidb64=uidb64, token=view.reset_url_token)
