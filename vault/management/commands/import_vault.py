"""manage.py import_vault --org ORG [--collection NAME] [--format F] FILE

Runs the same pipeline as the import page (the upload encrypted in the database, a job,
the worker's code run in this process) and prints counts and skipped rows, never an
item's contents.
"""

from __future__ import annotations

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from vault.imports.formats.base import REGISTRY
from vault.imports.selectors import counts_by_type, format_label
from vault.imports.services import ImportRefused, import_job_create, import_job_run
from vault.models import ImportStatus

from ._org_option import org_from_option


class Command(BaseCommand):
    help = "Import a password manager's export file into an organization's vault."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The exported file (.json or .csv).")
        parser.add_argument("--org", required=True, help="The organization's id.")
        parser.add_argument(
            "--collection",
            help="Put every item into this existing collection (default: collections named "
            "in the file).",
        )
        parser.add_argument(
            "--format",
            default="",
            choices=sorted(REGISTRY),
            help="The file's format (default: detected from the file).",
        )

    def handle(self, *args, **options):
        org = org_from_option(options["org"])
        collection = None
        if options["collection"]:
            collection = org.collections.filter(name=options["collection"]).first()
            if collection is None:
                raise CommandError(f"{org.name} has no collection named {options['collection']!r}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        with path.open("rb") as handle:
            try:
                job = import_job_create(
                    actor=None,
                    org=org,
                    upload=File(handle, name=path.name),
                    format_key=options["format"],
                    collection=collection,
                    enqueue=False,
                )
            except ImportRefused as refusal:
                raise CommandError(str(refusal)) from refusal
        job = import_job_run(job_id=job.pk)
        self._report(job)
        if job.status != ImportStatus.SUCCEEDED:
            raise CommandError(f"Import {job.pk} failed: {job.failure_message}")

    def _report(self, job) -> None:
        self.stdout.write(f"Import {job.pk} into {job.org.name}: {job.get_status_display()}.")
        self.stdout.write(f"Format: {format_label(job)}")
        if job.status != ImportStatus.SUCCEEDED:
            return
        self.stdout.write(f"Items imported: {job.imported_total}")
        for label, count in counts_by_type(job):
            self.stdout.write(f"  {label}: {count}")
        if job.collections_created:
            self.stdout.write(f"Collections created: {', '.join(job.collections_created)}")
        if job.row_error_count:
            self.stdout.write(f"Skipped rows: {job.row_error_count}")
            for error in job.row_errors:
                self.stdout.write(f"  {error['where']}: {error['reason']}")
