from django.core.management.base import BaseCommand, CommandError

from vault.key_management import vault_verify

from ._org_option import org_from_option


class Command(BaseCommand):
    help = (
        "Open every org key, data key and item (of one org with --org, else all) and list "
        "by id what fails to open. Exits non-zero if anything does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", default=None, help="Only this organization (its UUID).")

    def handle(self, *args, org: str | None, **options):
        report = vault_verify(org=org_from_option(org))
        self.stdout.write(
            f"Checked {report.orgs} orgs, {report.data_keys} data keys, {report.items} items."
        )
        for failure in report.failures:
            where = f"org {failure.org_id}"
            if failure.item_id:
                where += f" item {failure.item_id}"
            if failure.data_key_id:
                where += f" data key {failure.data_key_id}"
            self.stderr.write(f"  cannot open {failure.what}: {where}")
        if not report.ok:
            raise CommandError(f"{len(report.failures)} values failed to open.")
        self.stdout.write(self.style.SUCCESS("Every value opened."))
