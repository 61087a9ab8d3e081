"""The org's own pages: overview with the onboarding checklist, and the owners' settings."""

from dataclasses import dataclass

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import Capability, org_view

from .. import selectors, services
from ..forms import OrgSettingsForm
from ..models import MemberStatus


def org_page_context(actor, org, **extra) -> dict:
    """What every org page's layout needs: plain booleans, no permission logic in templates."""
    return {
        "org": org,
        "actor": actor,
        "can_view_members": actor.can(Capability.MEMBERS_VIEW),
        "can_manage_groups": actor.can(Capability.GROUPS_MANAGE),
        "can_manage_collections": actor.can(Capability.COLLECTIONS_MANAGE),
        "can_view_events": actor.can(Capability.EVENTS_VIEW),
        "can_use_vault": actor.vault_membership is not None,
        "can_change_settings": actor.can(Capability.ORG_SETTINGS),
        **extra,
    }


@require_GET
@org_view(Capability.ORG_VIEW)
def overview(request, *, actor, org):
    counts = selectors.member_counts(org=org)
    return render(
        request,
        "clients/overview.html",
        org_page_context(
            actor,
            org,
            member_counts=counts,
            seats_used=sum(n for status, n in counts.items() if status != MemberStatus.REVOKED),
            collection_count=org.collections.count(),
            group_count=org.groups.count(),
            onboarding=_onboarding_steps(actor, org),
        ),
    )


@dataclass(frozen=True)
class OnboardingStep:
    label: str
    done: bool
    url: str | None  # None when the page does not exist yet or the actor cannot use it


# The recommended onboarding workflow, in order: (state field, label, capability, URL names).
# Import and policies pages arrive with their own issues; until then their steps have no link.
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
    return [
        OnboardingStep(
            label=label,
            done=getattr(state, field),
            url=_first_url(url_names, org) if actor.can(capability) else None,
        )
        for field, label, capability, url_names in ONBOARDING_WORKFLOW
    ]


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
