"""Collections of an org: the list, create, rename, delete, and the access tab."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.access import Capability, org_view
from portal.pagination import paginate, search_term

from .. import selectors
from .orgs import org_page_context


@require_GET
@org_view(Capability.COLLECTIONS_MANAGE)
def collections(request, *, actor, org):
    search = search_term(request)
    page = paginate(request, selectors.collection_list(org=org, search=search))
    return render(
        request, "clients/collections.html", org_page_context(actor, org, page=page, search=search)
    )
