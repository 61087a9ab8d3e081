"""Writing the audit log. Every service that changes something calls `record_event`.

Events name objects by type and id only: an item's name is a secret too.
"""

from __future__ import annotations

import contextvars
from typing import Any

from django.db import models

from .models import Event, EventType

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
    return Event.objects.create(
        type=event_type,
        actor=user if user is not None and user.is_authenticated else None,
        acting_provider=acting_provider,
        org=org,
        provider=provider,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        ip_address=current_ip_address.get(),
        details=details or {},
    )


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
