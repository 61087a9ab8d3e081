from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.access import Capability, org_view
from portal.pagination import paginate

from . import selectors
from .models import MemberStatus


def org_page_context(actor, org, **extra) -> dict:
    """What every org page's layout needs: plain booleans, no permission logic in templates."""
    return {
        "org": org,
        "actor": actor,
        "can_view_members": actor.can(Capability.MEMBERS_VIEW),
        "can_manage_groups": actor.can(Capability.GROUPS_MANAGE),
        "can_manage_collections": actor.can(Capability.COLLECTIONS_MANAGE),
        "can_use_vault": actor.vault_membership is not None,
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
        ),
    )


@require_GET
@org_view(Capability.MEMBERS_VIEW)
def members(request, *, actor, org):
    search = request.GET.get("q", "")[:100]
    page = paginate(request, selectors.member_list(org=org, search=search))
    return render(request, "clients/members.html", org_page_context(actor, org, page=page, search=search))


@require_GET
@org_view(Capability.GROUPS_MANAGE)
def groups(request, *, actor, org):
    search = request.GET.get("q", "")[:100]
    page = paginate(request, selectors.group_list(org=org, search=search))
    return render(request, "clients/groups.html", org_page_context(actor, org, page=page, search=search))


@require_GET
@org_view(Capability.COLLECTIONS_MANAGE)
def collections(request, *, actor, org):
    search = request.GET.get("q", "")[:100]
    page = paginate(request, selectors.collection_list(org=org, search=search))
    return render(
        request, "clients/collections.html", org_page_context(actor, org, page=page, search=search)
    )
