from django.core.management.base import BaseCommand, CommandError

from vault.key_management import keks_rotate
from vault.keyring import configured_keyring
from vault.keys import InvalidKeyConfiguration


class Command(BaseCommand):
    help = (
        "Rewrap every org private key under the active (first) key-encryption key. "
        "Resumable and idempotent: run it again after an interruption. Items are untouched."
    )

    def handle(self, *args, **options):
        try:
            keyring = configured_keyring()
        except InvalidKeyConfiguration as error:
            raise CommandError(str(error)) from error
        report = keks_rotate(keyring=keyring)
        self.stdout.write(
            f"Active key: {keyring.active_id}. Rewrapped: {report.rewrapped}. "
            f"Already under it: {report.already_current}. Failed: {len(report.failed)}."
        )
        if report.failed:
            for org_id in report.failed:
                self.stderr.write(f"  org {org_id}: its key could not be unwrapped")
            raise CommandError(
                "Some org keys could not be rewrapped: keep their old key-encryption key "
                "configured (after the active one) and run the command again."
            )
        self.stdout.write(
            self.style.SUCCESS("Done. Keys other than the active one may now be removed.")
        )
