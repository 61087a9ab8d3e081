from django.core.management.base import BaseCommand

from providers.services import provider_set_enabled

from ._lookup import provider_by_name_or_id


class Command(BaseCommand):
    help = "Enable a provider again, with the clients that were disabled together with it."

    def add_arguments(self, parser):
        parser.add_argument("provider", help="The provider's name or id.")

    def handle(self, *args, provider: str, **options):
        provider = provider_by_name_or_id(provider)
        changed = provider_set_enabled(provider=provider, enabled=True)
        self.stdout.write(
            self.style.SUCCESS(f"Enabled {provider.name} and {changed} of its clients.")
        )
