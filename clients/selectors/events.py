"""Reads on the org's event log."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from portal.events import in_date_range
from portal.models import Event

from ..models import Organization


def org_event_list(
    *, org: Organization, start: date | None = None, end: date | None = None
) -> QuerySet[Event]:
    """The org's own log, newest first. Provider rows name the provider (`acting_provider`)."""
    events = Event.objects.filter(org=org).select_related("actor", "acting_provider")
    return in_date_range(events, start=start, end=end).order_by("-occurred_at", "-id")
