from django.core.management.base import BaseCommand, CommandError

from vault.crypto import ItemUnreadable
from vault.key_management import org_key_rotate
from vault.keys import InvalidKeyConfiguration
from vault.models import OrgKey

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
        try:
            report = org_key_rotate(org=organization)
        except InvalidKeyConfiguration as error:
            raise CommandError(str(error)) from error
        except OrgKey.DoesNotExist as error:
            raise CommandError(
                f"Org {organization.pk} has no key pair yet; nothing was changed."
            ) from error
        except ItemUnreadable as failure:
            # Ids only: the failure names the org, and the data key when there is one.
            raise CommandError(
                f"Nothing was changed: {failure}. It is recorded in the org's event log; "
                "run verify_vault to list everything that fails to open."
            ) from failure
        self.stdout.write(
            self.style.SUCCESS(
                f"Org {organization.pk}: key pair version {report.new_version}, "
                f"{report.data_keys_resealed} data keys resealed, items untouched."
            )
        )
