"""The org's event log, and its CSV export (same filters)."""

from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from portal.access import Capability, org_view, vault_access
from portal.csv import csv_response
from portal.pagination import paginate

from ..forms.events import OrgEventFilterForm
from ..selectors.events import (
    EVENT_CSV_HEADER,
    event_csv_cells,
    event_rows,
    event_rows_streamed,
    org_event_list,
)
from .orgs import org_page_context


def _filter_form(request) -> OrgEventFilterForm:
    # Bound only when a filter was submitted: paging an unfiltered log filters nothing.
    submitted = any(name in request.GET for name in OrgEventFilterForm.base_fields)
    return OrgEventFilterForm(request.GET if submitted else None)


def _filter_query(form) -> str:
    if not form.is_bound:
        return ""
    return urlencode({name: form.data[name] for name in form.fields if form.data.get(name)})


def _item_link_orgs(actor, org) -> frozenset:
    """Items link to their page only for a viewer with vault access here (never a provider)."""
    return frozenset({org.pk}) if vault_access(actor) is not None else frozenset()


@require_GET
@org_view(Capability.EVENTS_VIEW)
def events(request, *, actor, org):
    form = _filter_form(request)
    page = paginate(request, org_event_list(org=org, **form.filters()))
    page.object_list = event_rows(page.object_list, item_link_org_ids=_item_link_orgs(actor, org))
    extra_query = _filter_query(form)
    export_url = reverse("org_events_export", kwargs={"org_id": org.pk})
    return render(
        request,
        "clients/events.html",
        org_page_context(
            actor,
            org,
            form=form,
            page=page,
            extra_query=extra_query,
            export_url=f"{export_url}?{extra_query}" if extra_query else export_url,
        ),
    )


@require_GET
@org_view(Capability.EVENTS_VIEW)
def events_export(request, *, actor, org):
    form = _filter_form(request)
    if form.is_bound and not form.is_valid():
        # The log page shows what is wrong with the filters.
        url = reverse("org_events", kwargs={"org_id": org.pk})
        return redirect(f"{url}?{request.GET.urlencode()}")
    events = org_event_list(org=org, **form.filters())
    rows = (event_csv_cells(row) for row in event_rows_streamed(events))
    filename = f"{slugify(org.name) or 'organization'}-events-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_response(filename, EVENT_CSV_HEADER, rows)
