"""Shared by the provider commands: find a provider by its id or its exact name."""

from __future__ import annotations

import uuid

from django.core.management.base import CommandError

from providers.models import Provider


def provider_by_name_or_id(value: str) -> Provider:
    value = value.strip()
    try:
        return Provider.objects.get(pk=uuid.UUID(value))
    except (ValueError, Provider.DoesNotExist):
        pass
    matches = list(Provider.objects.filter(name__iexact=value)[:2])
    if not matches:
        raise CommandError(f"No provider is named or has the id {value!r}.")
    if len(matches) > 1:
        raise CommandError(f"Several providers are named {value!r}; give the provider's id.")
    return matches[0]
