import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.access import Capability, resolve, vault_access
from portal.models import User
from vault.crypto import ItemUnreadable
from vault.exports.services import ExportError, ExportFormat, vault_export_start
from vault.services import item_unreadable_record

from ._org_option import org_from_option


class Command(BaseCommand):
    help = (
        "Write an export of an org's vault, as one of its owners (or admins) would download "
        "it, to a file readable by its owner only (mode 600). Prints counts, never contents."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's id (a UUID).")
        parser.add_argument(
            "--owner",
            required=True,
            help="Email of a confirmed member who may export (owner, admin, custom flag).",
        )
        parser.add_argument(
            "--format",
            default=ExportFormat.BITWARDEN_JSON,
            choices=ExportFormat.values,
            help="File format (default: bitwarden_json).",
        )
        parser.add_argument(
            "--password-file",
            default=None,
            help="A file whose first line is the file password (bitwarden_encrypted_json).",
        )
        parser.add_argument("output", help="Where to write the export; must not exist yet.")

    def handle(self, *args, org, owner, format, password_file, output, **options):
        org = org_from_option(org)
        actor = self._actor(org, owner)
        password = self._file_password(format, password_file)
        path = Path(output)
        descriptor = self._create(path)  # before the export starts: no event for a failed open
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as out:
                export = self._start(actor, format, password)
                for chunk in export.chunks:  # an item that fails to open is recorded there
                    out.write(chunk)
        except ItemUnreadable as failure:
            path.unlink(missing_ok=True)
            raise CommandError(f"An item failed to open; no file was written: {failure}") from None
        except BaseException:
            path.unlink(missing_ok=True)  # never leave half an export behind
            raise
        self.stdout.write(
            f"Exported {export.item_count} items ({format}) to {path}; "
            f"{export.left_out} left out (reached without passwords)."
        )

    def _actor(self, org, email: str):
        user = User.objects.filter(email__iexact=email).first()
        actor = resolve(user, org) if user is not None else None
        if actor is None or actor.membership is None:
            raise CommandError(f"{email} is not a confirmed member of that organization.")
        if vault_access(actor) is None:
            raise CommandError(f"{email} has no vault access in that organization.")
        if not actor.can(Capability.EXPORT):
            raise CommandError(f"{email} may not export this organization's vault.")
        return actor

    def _file_password(self, export_format: str, password_file: str | None) -> str:
        if export_format != ExportFormat.BITWARDEN_ENCRYPTED_JSON:
            if password_file:
                raise CommandError("--password-file goes with --format bitwarden_encrypted_json.")
            return ""
        if not password_file:
            raise CommandError("The password-protected format needs --password-file.")
        try:
            lines = Path(password_file).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise CommandError(f"Cannot read {password_file}: {error.strerror}.") from error
        return lines[0] if lines else ""

    def _start(self, actor, export_format: str, password: str):
        try:
            return vault_export_start(
                actor=actor,
                access=vault_access(actor),
                export_format=export_format,
                file_password=password,
            )
        except ExportError as error:
            raise CommandError(str(error)) from error
        except ItemUnreadable as failure:
            item_unreadable_record(failure=failure, actor=actor)
            raise CommandError(f"A data key failed to open: {failure}") from failure

    def _create(self, path: Path) -> int:
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as error:
            raise CommandError(f"{path} exists already; choose a new file name.") from error
        except OSError as error:
            raise CommandError(f"Cannot create {path}: {error.strerror}.") from error
