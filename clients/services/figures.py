"""Recounting the stored client figures from the tables (an operator's repair)."""

from __future__ import annotations

from django.db import connections, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from ..models import ClientFigures, Organization
from ..selectors.figures import figures_from_tables, pending_from_tables

# What the figures count (events only move the last activity forward: not locked).
COUNTED_TABLES = (
    "clients_organization",
    "clients_membership",
    "portal_invitation",
    "otp_totp_totpdevice",
    "policies_policy",
)


def client_figures_recount(*, using: str = "default") -> int:
    """Give every org a figures row and set each figure to a count of the tables, in one
    transaction; returns how many orgs. The triggers keep them from then on (this is for
    repair: after restoring a partial dump, or a trigger that was missing)."""
    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor == "postgresql":
            # Writers wait for the few seconds this takes, so no change falls between the
            # count and its storing (SQLite already runs one writer at a time).
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {', '.join(COUNTED_TABLES)} IN SHARE MODE")
        orgs = Organization.objects.using(using)
        missing = orgs.filter(figures__isnull=True).values_list("pk", "provider_id")
        ClientFigures.objects.using(using).bulk_create(
            (ClientFigures(org_id=pk, provider_id=provider) for pk, provider in missing),
            ignore_conflicts=True,
        )
        org = orgs.filter(pk=OuterRef("org_id"))
        return ClientFigures.objects.using(using).update(
            name=Subquery(org.values("name")[:1]),
            provider_id=Subquery(org.values("provider_id")[:1]),
            **figures_from_tables("org_id"),
        )


def client_figures_refresh_expired(*, provider=None, using: str = "default") -> int:
    """Recount the pending invitations of the orgs (of `provider`, or all) whose count has
    changed by itself since it was stored: a link ran out. Returns how many orgs.

    Called before the figures are read (the dashboard, the check); usually one query
    that finds no row, down the index on (provider, invitations_expire_next). The rows
    are locked first, so a concurrent change to their invitations is counted, and two readers
    refreshing at once do it one after the other, the second finding nothing to do.
    """
    now = timezone.now()
    due = ClientFigures.objects.using(using).filter(invitations_expire_next__lte=now)
    if provider is not None:
        due = due.filter(provider=provider)
    if not due.exists():
        return 0
    with transaction.atomic(using=using):
        ids = list(due.select_for_update().order_by("org_id").values_list("org_id", flat=True))
        ClientFigures.objects.using(using).filter(org_id__in=ids).update(
            **pending_from_tables("org_id", now=now)
        )
    return len(ids)
