"""Reads on the org's event log, and what a log row shows (shared with the provider's
merged client log).

Objects are shown by what people recognize: a member by email, a group or collection by
name, looked up in bulk for a page (one query per object type, not per row), falling back
to the name or email the event kept for objects since deleted. Items are shown by id only:
an item's name is a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from portal.events import in_date_range
from portal.models import Event, EventType

from ..models import Collection, Group, Membership, Organization

# The object types an org's log names, as stored in Event.object_type, with their labels.
OBJECT_TYPES = {
    "membership": "Member",
    "group": "Group",
    "collection": "Collection",
    "item": "Item",
    "organization": "Organization",
    "policy": "Policy",
}
# Event types of an org's own log (account and provider lifecycle events live elsewhere).
ORG_EVENT_PREFIXES = ("org.", "member.", "group.", "collection.", "policy.", "item.", "import.")
ORG_EVENT_TYPES = [
    (value, label) for value, label in EventType.choices if value.startswith(ORG_EVENT_PREFIXES)
]


def org_event_list(
    *,
    org: Organization,
    start: date | None = None,
    end: date | None = None,
    actor_email: str = "",
    type: str = "",  # noqa: A002 - the filter's name on the page
    object_type: str = "",
    object_id: str = "",
) -> QuerySet[Event]:
    """The org's own log, newest first. Provider rows name the provider (`acting_provider`)."""
    events = Event.objects.filter(org=org).select_related("actor", "acting_provider")
    events = in_date_range(events, start=start, end=end)
    if actor_email:
        events = events.filter(actor__email__icontains=actor_email)
    if type:
        events = events.filter(type=type)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    return events.order_by("-occurred_at", "-id")


@dataclass(frozen=True)
class Change:
    """One changed field, its values as plain text ("(none)" for an empty one)."""

    field: str
    before: str
    after: str


@dataclass(frozen=True)
class EventRow:
    """One event as a log shows it: plain values for the template and the CSV."""

    event: Event
    by: str  # "Demo MSP (provider)", an email, or "system"
    by_email: str  # the person, also when they acted for a provider
    object_label: str  # "Member", "Group", ... ("" when the event names no object)
    object_name: str  # email or name; for items the id
    object_url: str | None  # a vault item page, for a viewer who may open it
    changes: list[Change] = field(default_factory=list)

    def __getattr__(self, name: str):
        # Everything else is the event's own: row.type, row.occurred_at, row.org...
        if name.startswith("__") or name == "event":
            raise AttributeError(name)
        return getattr(self.event, name)


def _changes(details: dict) -> list[Change]:
    changes = details.get("changes") if isinstance(details, dict) else None
    if not isinstance(changes, dict):
        return []
    rows = []
    for name, values in changes.items():
        if isinstance(values, list | tuple) and len(values) == 2:
            rows.append(Change(str(name), _plain(values[0]), _plain(values[1])))
    return rows


def _names_by_type(events: list[Event]) -> dict[str, dict[str, str]]:
    """The current email or name of each member, group and collection on the page:
    one query per type present, whatever the number of rows."""
    ids: dict[str, set[str]] = {"membership": set(), "group": set(), "collection": set()}
    for event in events:
        if event.object_type in ids and event.object_id:
            ids[event.object_type].add(event.object_id)
    # Each lookup stays inside the orgs of the events: an id never names another org's row.
    org_ids = {event.org_id for event in events if event.org_id}
    lookups = {
        "membership": (Membership, "email"),
        "group": (Group, "name"),
        "collection": (Collection, "name"),
    }
    names: dict[str, dict[str, str]] = {}
    for object_type, (model, attribute) in lookups.items():
        wanted = _valid_uuids(ids[object_type])
        if not wanted:
            names[object_type] = {}
            continue
        rows = model.objects.filter(org_id__in=org_ids, pk__in=wanted).values_list("pk", attribute)
        names[object_type] = {str(pk): value for pk, value in rows}
    return names


def _valid_uuids(values: Iterable[str]) -> list[str]:
    from uuid import UUID

    valid = []
    for value in values:
        try:
            valid.append(str(UUID(value)))
        except ValueError:
            continue
    return valid


def event_rows(
    events: Iterable[Event], *, item_link_org_ids: frozenset = frozenset()
) -> list[EventRow]:
    """`events` (one page of them) as rows. Items link to their page only in the orgs of
    `item_link_org_ids`: those where the viewer has vault access (never through a provider)."""
    events = list(events)
    names = _names_by_type(events)
    return [_row(event, names, item_link_org_ids) for event in events]


def _row(event: Event, names: dict[str, dict[str, str]], item_link_org_ids) -> EventRow:
    details = event.details if isinstance(event.details, dict) else {}
    object_type, object_id = event.object_type, event.object_id
    object_url = None
    if object_type in names:
        fallback = details.get("email") or details.get("name") or object_id
        object_name = names[object_type].get(object_id) or str(fallback)
    elif object_type == "item":
        object_name = object_id
        if event.org_id in item_link_org_ids and object_id:
            object_url = reverse(
                "vault_item_detail", kwargs={"org_id": event.org_id, "item_id": object_id}
            )
    elif object_type == "organization":
        object_name = str(details.get("name") or details.get("client") or "")
    else:
        object_name = str(details.get("name") or details.get("email") or object_id)
    email = event.actor.email if event.actor_id and event.actor else ""
    if event.acting_provider_id and event.acting_provider:
        by = f"{event.acting_provider.name} (provider)"
    else:
        by = email or "system"
    return EventRow(
        event=event,
        by=by,
        by_email=email,
        object_label=OBJECT_TYPES.get(object_type, object_type),
        object_name=object_name,
        object_url=object_url,
        changes=_changes(details),
    )


def changes_text(row: EventRow) -> str:
    """ "field: before → after; ..." for a CSV cell."""
    return "; ".join(f"{c.field}: {c.before} → {c.after}" for c in row.changes)


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


EVENT_CSV_HEADER = [
    "time",
    "event",
    "by",
    "by email",
    "object type",
    "object id",
    "object",
    "changes",
    "ip address",
]


def event_csv_cells(row: EventRow) -> tuple:
    """One log row as EVENT_CSV_HEADER's cells (portal.csv neutralises them)."""
    event = row.event
    return (
        timezone.localtime(event.occurred_at).isoformat(),
        event.get_type_display(),
        row.by,
        row.by_email,
        event.object_type,
        event.object_id,
        row.object_name,
        changes_text(row),
        event.ip_address,
    )


def event_rows_streamed(
    events: QuerySet[Event], *, item_link_org_ids: frozenset = frozenset(), batch: int = 1000
) -> Iterator[EventRow]:
    """All of `events` as rows, a batch at a time (for CSV exports of any size)."""
    iterator = events.iterator(chunk_size=batch)
    while chunk := list(islice(iterator, batch)):
        yield from event_rows(chunk, item_link_org_ids=item_link_org_ids)
