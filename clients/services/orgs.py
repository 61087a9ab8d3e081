"""Writes on client organizations themselves: creation and the owners' settings."""

from __future__ import annotations

from django.db import transaction

from portal.events import record_event, record_org_event
from portal.models import EventType
from vault.key_management import org_keys_create

from ..models import (
    Collection,
    Organization,
    Plan,
)

DEFAULT_COLLECTION_NAME = "Default collection"


@transaction.atomic
def org_create(
    *,
    user,
    name: str,
    plan: str = Plan.TEAMS,
    seats: int = 10,
    provider=None,
    acting_provider=None,
) -> Organization:
    """Create an org with its default collection and its vault key pair."""
    org = Organization.objects.create(name=name, plan=plan, seats=seats, provider=provider)
    Collection.objects.create(org=org, name=DEFAULT_COLLECTION_NAME, is_default=True)
    org_keys_create(org=org)
    record_event(
        EventType.ORG_CREATED, user=user, acting_provider=acting_provider, org=org, obj=org
    )
    return org


@transaction.atomic
def org_update_settings(*, actor, name: str, admins_access_all_items: bool) -> Organization:
    """An owner changes the org's name or whether owners and admins reach every item."""
    org = Organization.objects.select_for_update().get(pk=actor.org.pk)
    changed = {
        field: value
        for field, value in (("name", name), ("admins_access_all_items", admins_access_all_items))
        if getattr(org, field) != value
    }
    if not changed:
        return org
    for field, value in changed.items():
        setattr(org, field, value)
    org.save(update_fields=list(changed))
    # The name is not a secret, but the event records only which settings changed.
    record_org_event(
        EventType.ORG_UPDATED, actor=actor, obj=org, details={"changed": sorted(changed)}
    )
    return org
