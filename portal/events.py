"""Writing the audit log. Every service that changes something calls `record_event`.

Events name objects by type and id only: an item's name is a secret too.
"""

from __future__ import annotations

import contextvars
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .logging_config import correlation_id
from .models import Event, EventType
from .prepared import PreparedInsert

# Set per request by `RequestContextMiddleware`, so services need not pass it.
current_ip_address: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_ip_address", default=None
)


def record_event(
    event_type: EventType,
    *,
    user=None,
    acting_provider=None,
    org=None,
    provider=None,
    obj: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        type=event_type,
        actor=user if user is not None and user.is_authenticated else None,
        acting_provider=acting_provider,
        org=org,
        provider=provider,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        ip_address=current_ip_address.get(),
        details=details or {},
        request_id=correlation_id(),
    )
    _EVENT_INSERT.insert(event)
    return event


# Every item view writes an event: its INSERT is compiled once per process.
_EVENT_INSERT = PreparedInsert(Event)


def record_org_event(event_type: EventType, *, actor, obj=None, details=None) -> Event:
    """An event in an org, done by a resolved `access.Actor` (names the provider if any)."""
    return record_event(
        event_type,
        user=actor.user,
        acting_provider=actor.acting_provider,
        org=actor.org,
        obj=obj,
        details=details,
    )


# The clients a session has already entered as a provider (org ids).
PROVIDER_ENTRIES_SESSION_KEY = "provider_entered_clients"


def record_provider_entry(request, actor) -> None:
    """The first entry of a session into a client, as its provider, goes in both logs.

    The client's log names the provider as the actor (`acting_provider`); the
    provider's log gets its own row naming the client. Later pages of the same
    session do not repeat it.
    """
    org = actor.org
    provider = actor.acting_provider
    entered = request.session.get(PROVIDER_ENTRIES_SESSION_KEY, [])
    if provider is None or str(org.pk) in entered:
        return
    with transaction.atomic():
        record_event(
            EventType.ORG_ACCESSED_BY_PROVIDER, user=actor.user, acting_provider=provider, org=org
        )
        record_event(
            EventType.CLIENT_ACCESSED,
            user=actor.user,
            provider=provider,
            obj=org,
            details={"client": org.name},
        )
    request.session[PROVIDER_ENTRIES_SESSION_KEY] = [*entered, str(org.pk)]


def in_date_range(events: models.QuerySet, *, start: date | None, end: date | None):
    """Events from the start of `start` to the end of `end`, days in the portal's time zone."""
    zone = timezone.get_current_timezone()
    if start:
        events = events.filter(occurred_at__gte=datetime.combine(start, time.min, tzinfo=zone))
    if end:
        next_day = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
        events = events.filter(occurred_at__lt=next_day)
    return events
