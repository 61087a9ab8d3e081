from django.core.management.base import BaseCommand

from providers.services import provider_set_enabled

from ._lookup import provider_by_name_or_id


class Command(BaseCommand):
    help = "Disable a provider and all its clients: nobody can use them until enabled again."

    def add_arguments(self, parser):
        parser.add_argument("provider", help="The provider's name or id.")

    def handle(self, *args, provider: str, **options):
        provider = provider_by_name_or_id(provider)
        changed = provider_set_enabled(provider=provider, enabled=False)
        self.stdout.write(
            self.style.SUCCESS(f"Disabled {provider.name} and {changed} of its clients.")
        )
        self.stdout.write(f"Enable them again with: manage.py provider_enable {provider.pk}")
