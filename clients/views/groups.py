"""Groups of an org: the list, create, rename, delete, members and collection access."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.access import Capability, org_view
from portal.pagination import paginate, search_term

from .. import selectors
from .orgs import org_page_context


@require_GET
@org_view(Capability.GROUPS_MANAGE)
def groups(request, *, actor, org):
    search = search_term(request)
    page = paginate(request, selectors.group_list(org=org, search=search))
    return render(
        request, "clients/groups.html", org_page_context(actor, org, page=page, search=search)
    )
