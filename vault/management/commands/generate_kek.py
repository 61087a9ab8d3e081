from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vault.keys import InvalidKeyConfiguration, generate_kek_entry


class Command(BaseCommand):
    help = (
        "Print a new key-encryption key entry '<id>:<base64>' (one line, nothing else on "
        "stdout). Put it first in VAULT_KEKS (or the VAULT_KEKS_FILE) to make it active, "
        "keep the old entries, then run rotate_keks."
    )
    # Runs before any key exists, so it must not need the key check to pass.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--id",
            dest="kek_id",
            default=None,
            help="Key id: 1-32 of A-Z a-z 0-9 _ . - (default: k<UTC timestamp>).",
        )

    def handle(self, *args, kek_id: str | None, **options):
        kek_id = kek_id or timezone.now().strftime("k%Y%m%d%H%M%S")
        try:
            entry = generate_kek_entry(kek_id)
        except InvalidKeyConfiguration as error:
            raise CommandError(str(error)) from error
        self.stdout.write(entry)
