"""Account pages: home, invitations, and the error pages."""

from base64 import b32encode

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from clients.selectors import org_list_for_user
from providers.selectors import provider_list_for_user

from .forms import NewAccountForm, TwoStepConfirmForm, TwoStepDisableForm
from .selectors import two_step_device
from .services import (
    InvitationError,
    invitation_accept,
    invitation_find,
    two_step_begin,
    two_step_confirm,
    two_step_disable,
)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def two_step(request):
    """Turn two-step login on (scan or type the key, confirm a code) or off (password)."""
    device = two_step_device(request.user)
    if device is not None:
        form = TwoStepDisableForm(request.POST or None, request=request)
        if request.method == "POST" and form.is_valid():
            two_step_disable(user=request.user)
            messages.success(request, "Two-step login is off.")
            return redirect("two_step")
        return render(request, "registration/two_step.html", {"enabled": True, "form": form})
    pending = two_step_begin(user=request.user)
    form = TwoStepConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = "".join(form.cleaned_data["token"].split())
        if not pending.verify_is_allowed()[0]:
            form.add_error("token", "Too many wrong codes. Wait a minute, then try again.")
        elif two_step_confirm(user=request.user, device=pending, token=token):
            messages.success(request, "Two-step login is on. You will need a code to sign in.")
            return redirect("two_step")
        else:
            form.add_error("token", "That code is not right. Enter the code your app shows now.")
    context = {
        "enabled": False,
        "form": form,
        "key": _grouped(b32encode(pending.bin_key).decode()),
        "config_url": pending.config_url,
    }
    return render(request, "registration/two_step.html", context)


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


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request, token: str):
    invitation = invitation_find(token)
    if invitation is None:
        return render(request, "portal/invitation_invalid.html", {"reason": "unknown"}, status=404)
    if not invitation.is_usable:
        return render(request, "portal/invitation_invalid.html", {"reason": "used"}, status=410)
    user = request.user if request.user.is_authenticated else None
    if user is not None and user.email.lower() != invitation.email.lower():
        # Say so before the visitor does anything; the service refuses it anyway.
        messages.error(
            request,
            f"This invitation is for {invitation.email}, but you are signed in as {user.email}. "
            "Sign out and open the link again.",
        )
        return render(request, "portal/invitation_invalid.html", {"reason": "account"}, status=403)
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
            return render(
                request, "portal/invitation_accept.html", {"invitation": invitation, "form": form}
            )
        if not request.user.is_authenticated:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
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


def _account_for_invitation(existing, email: str, data: dict):
    user = existing or get_user_model().objects.create_user(email, name=data.get("name", ""))
    user.set_password(data["password1"])
    if data.get("name"):
        user.name = data["name"]
    user.save(update_fields=["password", "name"])
    return user


@require_http_methods(["GET", "HEAD"])
def healthz(request):
    """For load balancers and container healthchecks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def csrf_failure(request, reason: str = ""):
    return render(request, "403_csrf.html", status=403)
