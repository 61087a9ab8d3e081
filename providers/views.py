from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.access import ProviderCapability, provider_view
from portal.pagination import paginate

from .selectors import client_list_for_actor


@require_GET
@provider_view(ProviderCapability.DASHBOARD_VIEW)
def dashboard(request, *, actor, provider):
    search = request.GET.get("q", "")[:100]
    page = paginate(request, client_list_for_actor(actor=actor, search=search))
    return render(
        request,
        "providers/dashboard.html",
        {"provider": provider, "actor": actor, "page": page, "search": search},
    )
