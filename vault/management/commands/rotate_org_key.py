from django.core.management.base import BaseCommand

from vault.key_management import org_key_rotate

from ._org_option import org_from_option


class Command(BaseCommand):
    help = (
        "Give one org a new key pair and reseal its data keys to it; items are untouched. "
        "The old private key is deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's id (UUID).")

    def handle(self, *args, org: str, **options):
        organization = org_from_option(org)
        report = org_key_rotate(org=organization)
        self.stdout.write(
            self.style.SUCCESS(
                f"Org {organization.pk}: key pair version {report.new_version}, "
                f"{report.data_keys_resealed} data keys resealed, items untouched."
            )
        )
