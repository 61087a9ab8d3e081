"""Policy pages of an org: the list of types with their state, and one page per type."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from clients.models import Membership
from clients.views.orgs import org_page_context
from portal.access import Capability, account_recovery_refusal, org_view
from portal.pagination import paginate

from . import selectors, services
from .forms import PolicyEnabledForm, RecoveryEnrollmentForm, UnlockForm
from .middleware import LOCKED_SESSION_KEY, session_unlocked
from .types import policy_type_for


@require_GET
@org_view(Capability.POLICIES_MANAGE)
def policies(request, *, actor, org):
    context = org_page_context(actor, org, states=selectors.policy_states(org=org))
    return render(request, "policies/policies.html", context)


@require_http_methods(["GET", "POST"])
@org_view(Capability.POLICIES_MANAGE)
def policy_edit(request, policy_key: str, *, actor, org):
    policy_type = policy_type_for(policy_key)
    if policy_type is None:
        raise Http404
    state = selectors.policy_state(org=org, policy_type=policy_type)
    data = request.POST if request.method == "POST" else None
    enabled_form = PolicyEnabledForm(data, initial={"enabled": state.enabled})
    settings_form = policy_type.settings_form(data, initial=state.settings)
    if data is not None and enabled_form.is_valid() and settings_form.is_valid():
        try:
            _policy, summary = services.policy_update(
                actor=actor,
                policy_type=policy_type,
                enabled=enabled_form.cleaned_data["enabled"],
                settings=settings_form.cleaned_data,
            )
        except services.PolicyError as error:
            messages.error(request, str(error))
        else:
            on = "on" if enabled_form.cleaned_data["enabled"] else "off"
            messages.success(request, f"“{policy_type.title}” saved: {on}. {summary}".strip())
            return redirect("org_policies", org_id=org.pk)
    context = org_page_context(
        actor,
        org,
        policy_type=policy_type,
        enabled_form=enabled_form,
        settings_form=settings_form,
        has_settings=bool(settings_form.fields),
    )
    return render(request, "policies/policy_edit.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def session_unlock(request):
    """A session locked by a vault timeout: the password again, then on where it was."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = ""
    if not request.session.get(LOCKED_SESSION_KEY):
        return redirect(target or "home")
    form = UnlockForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        session_unlocked(request)
        messages.success(request, "Unlocked.")
        return redirect(target or "home")
    return render(request, "policies/unlock.html", {"form": form, "next": target})


@require_http_methods(["GET", "POST"])
@org_view(Capability.ORG_VIEW)
def account_recovery(request, *, actor, org):
    """A member's own enrolment; for owners and admins, the enrolled members too."""
    if actor.membership is None:  # provider staff: no account of theirs to enrol
        raise PermissionDenied
    policy_on = selectors.recovery_policy_on(org=org)
    enrolled = selectors.recovery_enrolled(membership=actor.membership)
    form = RecoveryEnrollmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.recovery_enrollment_set(actor=actor, enrolled=form.cleaned_data["enroll"])
        except services.PolicyError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                "You are enrolled in account recovery."
                if form.cleaned_data["enroll"]
                else "You are no longer enrolled in account recovery.",
            )
            return redirect("org_account_recovery", org_id=org.pk)
    can_recover = policy_on and actor.can(Capability.ACCOUNT_RECOVERY)
    page = None
    if can_recover:
        page = paginate(request, selectors.recovery_enrolled_members(org=org))
        for member in page.object_list:
            member.recoverable = account_recovery_refusal(actor, member) is None
    context = org_page_context(
        actor, org, policy_on=policy_on, enrolled=enrolled, can_recover=can_recover, page=page
    )
    return render(request, "policies/account_recovery.html", context)


@require_http_methods(["GET", "POST"])
@org_view(Capability.ACCOUNT_RECOVERY)
def account_recovery_reset(request, member_id, *, actor, org):
    """Set a new password for an enrolled member (the policy must be on)."""
    membership = get_object_or_404(
        Membership.objects.select_related("user"),
        org=org,
        pk=member_id,
        recovery_enrollment__isnull=False,
    )
    if account_recovery_refusal(actor, membership):
        raise PermissionDenied
    form = SetPasswordForm(membership.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_recover(
                actor=actor, membership=membership, password=form.cleaned_data["new_password1"]
            )
        except services.PolicyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"New password set for {membership.email}. They have been emailed."
            )
            return redirect("org_account_recovery", org_id=org.pk)
    context = org_page_context(actor, org, member=membership, form=form)
    return render(request, "policies/account_recovery_reset.html", context)
