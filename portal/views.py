"""Account pages: home, invitations, and the error pages."""

from base64 import b32encode

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.selectors import org_list_for_user
from providers.selectors import provider_list_for_user

from .accounts import token_url_page
from .forms import NewAccountForm, RecoveryCodesForm, TwoStepDisableForm, TwoStepEnableForm
from .selectors import two_step_device
from .services import (
    InvitationError,
    TwoStepError,
    invitation_accept,
    invitation_find,
    invitation_find_by_token_hash,
    recovery_codes_regenerate,
    two_step_disable,
    two_step_enable,
    wrong_account_message,
)
from .two_step import (
    format_recovery_code,
    qr_code_svg,
    recovery_codes_left,
    second_step_passed,
)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def two_step(request):
    """Turn two-step login on (add the key to an app, confirm a code) or off (password, code)."""
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    if codes and request.method == "GET":
        return _recovery_codes_page(request, codes)
    device = two_step_device(request.user)
    if device is not None:
        return _two_step_on_page(request, device)
    form = TwoStepEnableForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        token = "".join(form.cleaned_data["token"].split())
        enabled = two_step_enable(user=request.user, key=form.key, token=token)
        if enabled is not None:
            second_step_passed(request, enabled.device)
            messages.success(request, "Two-step login is on. You will need a code to sign in.")
            return _show_recovery_codes_once(request, enabled.recovery_codes)
        form.add_error("token", "That code is not right. Enter the code your app shows now.")
    pending = TOTPDevice(user=request.user, key=form.key)  # never saved: only shown
    context = {
        "enabled": False,
        "form": form,
        "key": _grouped(b32encode(pending.bin_key).decode()),
        "config_url": pending.config_url,
        "qr_svg": qr_code_svg(pending.config_url),
    }
    return render(request, "registration/two_step.html", context)


def _two_step_on_page(request, device, *, codes_form=None):
    form = TwoStepDisableForm(
        request.POST if codes_form is None else None, request=request, device=device
    )
    if codes_form is None and request.method == "POST" and form.is_valid():
        two_step_disable(user=request.user)
        messages.success(request, "Two-step login is off.")
        return redirect("two_step")
    context = {
        "enabled": True,
        "form": form,
        "codes_form": codes_form or RecoveryCodesForm(request=request, device=device),
        "codes_left": recovery_codes_left(request.user),
    }
    return render(request, "registration/two_step.html", context)


@never_cache
@require_POST
@login_required
def two_step_recovery_codes(request):
    """A new set of recovery codes, for a current code; the old set stops working."""
    device = two_step_device(request.user)
    if device is None:
        messages.error(request, "Turn on two-step login first: recovery codes come with it.")
        return redirect("two_step")
    form = RecoveryCodesForm(request.POST, request=request, device=device)
    if not form.is_valid():
        return _two_step_on_page(request, device, codes_form=form)
    try:
        codes = recovery_codes_regenerate(user=request.user)
    except TwoStepError as error:
        messages.error(request, str(error))
        return redirect("two_step")
    messages.success(request, "New recovery codes are ready. The old ones no longer work.")
    return _show_recovery_codes_once(request, codes)


# New recovery codes wait here between the POST that made them and the one page that
# shows them (post/redirect/get); that page takes them out, so a reload shows none.
RECOVERY_CODES_SESSION_KEY = "two_step_new_recovery_codes"


def _show_recovery_codes_once(request, codes: list[str]):
    request.session[RECOVERY_CODES_SESSION_KEY] = codes
    return redirect("two_step")


def _recovery_codes_page(request, codes: list[str]):
    return render(
        request,
        "registration/recovery_codes.html",
        {
            "codes": [format_recovery_code(code) for code in codes],
            "pending_invitation": INVITATION_SESSION_KEY in request.session,
        },
    )


def _grouped(key: str) -> str:
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@require_GET
@login_required
def home(request):
    """Take each user to what they can reach: straight there when it is one place."""
    providers = list(provider_list_for_user(request.user))
    orgs = list(org_list_for_user(request.user))
    if len(providers) + len(orgs) == 1:
        if providers:
            return redirect("provider_dashboard", provider_id=providers[0].pk)
        return redirect("org_overview", org_id=orgs[0].pk)
    return render(request, "portal/home.html", {"providers": providers, "orgs": orgs})


# The session keeps the hash of the token that the link carried, never the token.
INVITATION_SESSION_KEY = "invitation_token_hash"


@token_url_page
@require_GET
def invitation_open(request):
    """The emailed link, /invitations/open/?token=...: remember it, then drop it from the URL."""
    invitation = invitation_find(request.GET.get("token", ""))
    if invitation is None:
        return _invitation_refused(request, "unknown", status=404)
    if not invitation.is_usable:
        return _invitation_refused(request, "used", status=410)
    request.session[INVITATION_SESSION_KEY] = invitation.token_hash
    return redirect("invitation_accept")


@token_url_page
@require_GET
def invitation_link_in_path(request, token: str):
    """A link with the token in its path (the old form) is not looked up: paths get logged."""
    return _invitation_refused(request, "path", status=404)


def _invitation_refused(request, reason: str, *, status: int):
    return render(request, "portal/invitation_invalid.html", {"reason": reason}, status=status)


def _invitation_opened_in_session(request):
    """(the usable invitation whose link this session opened, None) or (None, a refusal)."""
    token_hash = request.session.get(INVITATION_SESSION_KEY, "")
    invitation = invitation_find_by_token_hash(token_hash)
    if invitation is not None and invitation.is_usable:
        return invitation, None
    request.session.pop(INVITATION_SESSION_KEY, None)
    if not token_hash:
        return None, _invitation_refused(request, "no_link", status=404)
    if invitation is None:  # sent again since: the older link stopped working
        return None, _invitation_refused(request, "unknown", status=404)
    return None, _invitation_refused(request, "used", status=410)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request):
    invitation, refusal = _invitation_opened_in_session(request)
    if refusal is not None:
        return refusal
    user = request.user if request.user.is_authenticated else None
    if user is not None and user.email.lower() != invitation.email.lower():
        # Say so before the visitor does anything; the service refuses it anyway.
        messages.error(request, wrong_account_message(user))
        return _invitation_refused(request, "account", status=403)
    existing = get_user_model().objects.filter(email__iexact=invitation.email).first()
    form = None
    if user is None and existing is not None and existing.has_usable_password():
        return render(request, "portal/invitation_login.html", {"invitation": invitation})
    if user is None:
        form = NewAccountForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            with transaction.atomic():
                if user is None:
                    user = _account_for_invitation(existing, invitation.email, form.cleaned_data)
                invitation_accept(invitation=invitation, user=user)
        except InvitationError as error:
            messages.error(request, str(error))
            if error.remedy_url_name:
                return _invitation_remedy(request, error, existing, invitation, form)
            return render(
                request, "portal/invitation_accept.html", {"invitation": invitation, "form": form}
            )
        request.session.pop(INVITATION_SESSION_KEY, None)
        if not request.user.is_authenticated:
            login(request, user, backend="portal.auth_backend.AccountBackend")
        if invitation.provider_user_id:
            messages.success(
                request,
                "Invitation accepted. A provider admin must now confirm you; "
                "the provider appears here once they have.",
            )
        else:
            messages.success(request, "Invitation accepted.")
        return redirect("home")
    return render(
        request, "portal/invitation_accept.html", {"invitation": invitation, "form": form}
    )


def _invitation_remedy(request, error, existing, invitation, form):
    """An org policy asks something of the account first (two-step login): a new account
    is kept and signed in so that it can do it; the invitation stays open in the session,
    and the remedy page leads back to it."""
    if not request.user.is_authenticated:
        with transaction.atomic():
            user = _account_for_invitation(existing, invitation.email, form.cleaned_data)
        login(request, user, backend="portal.auth_backend.AccountBackend")
    return redirect(error.remedy_url_name)


def _account_for_invitation(existing, email: str, data: dict):
    user = existing or get_user_model().objects.create_user(email, name=data.get("name", ""))
    user.set_password(data["password1"])
    if data.get("name"):
        user.name = data["name"]
    user.save(update_fields=["password", "name"])
    return user


@require_http_methods(["GET", "HEAD"])
def livez(request):
    """The process answers: touches neither the session nor the database. The load
    bench's ceiling, and a liveness probe that a database outage does not fail."""
    return HttpResponse("ok", content_type="text/plain")


@require_http_methods(["GET", "HEAD"])
def healthz(request):
    """For load balancers and container healthchecks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def csrf_failure(request, reason: str = ""):
    return render(request, "403_csrf.html", status=403)


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked sign-in (AXES_LOCKOUT_CALLABLE): how long, in words."""
    cool_off = get_cool_off(request)
    now = timezone.now()
    context = {"cool_off": timesince(now, now + cool_off) if cool_off else None}
    return render(
        request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
