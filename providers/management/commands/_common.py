"""Shared by the provider commands: find a provider by its id or its exact name, and the
one command behind provider_enable and provider_disable."""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from providers.models import Provider
from providers.services import provider_set_enabled


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


class SetProviderEnabledCommand(BaseCommand):
    """Enable or disable a provider with its clients; subclasses set `enabled` and `help`."""

    enabled: bool

    def add_arguments(self, parser):
        parser.add_argument("provider", help="The provider's name or id.")

    def handle(self, *args, provider: str, **options):
        provider = provider_by_name_or_id(provider)
        changed = provider_set_enabled(provider=provider, enabled=self.enabled)
        verb = "Enabled" if self.enabled else "Disabled"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {provider.name} and {changed} of its clients.")
        )
        if not self.enabled:
            self.stdout.write(f"Enable them again with: manage.py provider_enable {provider.pk}")
