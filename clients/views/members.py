"""Members of an org: the list, invitations, confirmation, roles, revocation."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.access import Capability, org_view
from portal.pagination import paginate, search_term

from .. import selectors
from .orgs import org_page_context


@require_GET
@org_view(Capability.MEMBERS_VIEW)
def members(request, *, actor, org):
    search = search_term(request)
    page = paginate(request, selectors.member_list(org=org, search=search))
    return render(
        request, "clients/members.html", org_page_context(actor, org, page=page, search=search)
    )
