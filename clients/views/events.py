"""The org's event log."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.access import Capability, org_view
from portal.pagination import paginate

from .. import selectors
from ..forms import EventFilterForm
from .orgs import org_page_context


@require_GET
@org_view(Capability.EVENTS_VIEW)
def events(request, *, actor, org):
    form = EventFilterForm(request.GET or None)
    page = paginate(request, selectors.org_event_list(org=org, **form.filters()))
    extra_query = urlencode({k: form.data[k] for k in form.fields if form.data.get(k)})
    return render(
        request,
        "clients/events.html",
        org_page_context(actor, org, form=form, page=page, extra_query=extra_query),
    )
