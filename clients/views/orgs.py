"""The org's own pages: overview with the onboarding checklist, and the owners' settings."""

from dataclasses import dataclass

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import Capability, collection_management, org_view

from .. import selectors, services
from ..forms import OrgSettingsForm
from ..models import MemberStatus


def org_page_context(actor, org, **extra) -> dict:
    """What every org page's layout needs: plain booleans, no permission logic in templates."""
    context = {
        "org": org,
        "actor": actor,
        "can_view_members": actor.can(Capability.MEMBERS_VIEW),
        "can_manage_groups": actor.can(Capability.GROUPS_MANAGE),
        # Also members who "can manage" some collection: the page lists those to them.
        "can_manage_collections": collection_management(actor).manages_any,
        "can_view_events": actor.can(Capability.EVENTS_VIEW),
        "can_manage_policies": actor.can(Capability.POLICIES_MANAGE),
        "can_use_vault": actor.vault_membership is not None,
        "can_export": actor.can(Capability.EXPORT) and actor.vault_membership is not None,
        "can_import": actor.can(Capability.IMPORT),
        "can_change_settings": actor.can(Capability.ORG_SETTINGS),
        # Members may leave (provider staff have no membership to leave).
        "can_leave": actor.membership is not None,
        # Members enrol in account recovery themselves (the page says if the org uses it).
        "can_enroll_recovery": actor.membership is not None,
    }
    # A member without any management right opens the org on their vault, as in
    # Bitwarden; the overview is for those who run the org.
    manages = [key for key in _MANAGEMENT_LINKS if context[key]]
    context["lands_on_vault"] = context["can_use_vault"] and not manages
    context.update(extra)
    return context


# The layout's links to management pages: having any of them makes the overview one's landing.
_MANAGEMENT_LINKS = (
    "can_view_members",
    "can_manage_groups",
    "can_manage_collections",
    "can_view_events",
    "can_manage_policies",
    "can_export",
    "can_import",
    "can_change_settings",
)


@require_GET
@org_view(Capability.ORG_VIEW)
def overview(request, *, actor, org):
    context = org_page_context(actor, org)
    if context["lands_on_vault"]:
        return redirect("vault_item_list", org_id=org.pk)
    counts = selectors.member_counts(org=org)
    context.update(
        member_counts=counts,
        seats_used=sum(n for status, n in counts.items() if status != MemberStatus.REVOKED),
        collection_count=org.collections.count(),
        group_count=org.groups.count(),
        onboarding=_onboarding_steps(actor, org),
    )
    return render(request, "clients/overview.html", context)


@dataclass(frozen=True)
class OnboardingStep:
    label: str
    done: bool
    url: str | None  # None when the page does not exist yet or the actor cannot use it
    available: bool = True  # False while the portal has no page for the step


# The recommended onboarding workflow, in order: (state field, label, capability, URL names).
# A step whose page does not exist is listed without a link and says so, rather than
# linking somewhere that does not do it.
ONBOARDING_WORKFLOW = [
    (
        "collections_created",
        "Create collections",
        Capability.COLLECTIONS_MANAGE,
        ["org_collections"],
    ),
    ("data_imported", "Import data", Capability.IMPORT, ["vault_import", "org_import"]),
    ("policies_configured", "Configure policies", Capability.POLICIES_MANAGE, ["org_policies"]),
    ("groups_created", "Create groups", Capability.GROUPS_MANAGE, ["org_groups"]),
    ("users_invited", "Invite users", Capability.MEMBERS_MANAGE, ["org_members"]),
    ("users_confirmed", "Confirm users", Capability.MEMBERS_MANAGE, ["org_members"]),
]


def _onboarding_steps(actor, org) -> list[OnboardingStep] | None:
    """The checklist for those who manage the org; None once it is fully onboarded."""
    if not actor.can(Capability.MEMBERS_MANAGE):
        return None
    state = selectors.onboarding_state(org=org)
    if state.complete:
        return None
    steps = []
    for field, label, capability, url_names in ONBOARDING_WORKFLOW:
        url = _first_url(url_names, org)
        steps.append(
            OnboardingStep(
                label=label,
                done=getattr(state, field),
                url=url if actor.can(capability) else None,
                available=url is not None,
            )
        )
    return steps


def _first_url(names: list[str], org) -> str | None:
    for name in names:
        try:
            return reverse(name, kwargs={"org_id": org.pk})
        except NoReverseMatch:
            continue
    return None


@require_http_methods(["GET", "POST"])
@org_view(Capability.ORG_SETTINGS)
def settings_page(request, *, actor, org):
    initial = {"name": org.name, "admins_access_all_items": org.admins_access_all_items}
    form = OrgSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.org_update_settings(actor=actor, **form.cleaned_data)
        messages.success(request, "Settings saved.")
        return redirect("org_settings", org_id=org.pk)
    return render(request, "clients/settings.html", org_page_context(actor, org, form=form))
