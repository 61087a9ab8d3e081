"""The --org option shared by the vault's operator commands."""

from uuid import UUID

from django.core.management.base import CommandError

from clients.models import Organization


def org_from_option(value: str | None) -> Organization | None:
    if value is None:
        return None
    try:
        org_id = UUID(value)
    except ValueError as error:
        raise CommandError(f"--org takes an organization id (a UUID), not {value!r}.") from error
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        raise CommandError(f"No organization has the id {org_id}.")
    return org
