from django.core.management.base import BaseCommand, CommandError

from vault.key_management import keks_rotate
from vault.keyring import configured_keyring
from vault.keys import InvalidKeyConfiguration


class Command(BaseCommand):
    help = (
        "Move every org under the active (first) key-encryption key: rewrap its private key "
        "and re-tag its public key and data keys, each tag checked first. Resumable and "
        "idempotent: run it again after an interruption. Items are untouched."
    )

    def handle(self, *args, **options):
        try:
            keyring = configured_keyring()
        except InvalidKeyConfiguration as error:
            raise CommandError(str(error)) from error
        report = keks_rotate(keyring=keyring)
        self.stdout.write(
            f"Active key: {keyring.active_id}. "
            f"Orgs rewrapped and re-tagged: {report.rewrapped}. "
            f"Already under it: {report.already_current}. Failed: {len(report.failed)}."
        )
        if report.failed:
            for org_id in report.failed:
                self.stderr.write(
                    f"  org {org_id}: a key row could not be unwrapped or failed its integrity "
                    "check (the log line before says which)"
                )
            raise CommandError(
                "Some org keys could not be rewrapped: keep their old key-encryption key "
                "configured (after the active one) and run the command again; a row that "
                "failed its integrity check was not written by the portal (see verify_vault)."
            )
        self.stdout.write(
            self.style.SUCCESS("Done. Keys other than the active one may now be removed.")
        )
