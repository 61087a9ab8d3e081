import os
import sys
from getpass import getpass

from django.core.management.base import BaseCommand, CommandError

from portal.demo import seed_demo

DEFAULT_DEMO_PASSWORD = "demo-password-2026"
PASSWORD_ENV = "DEMO_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo provider, clients, members and vault data. Idempotent. "
        f"The demo logins' password comes from --password, else ${PASSWORD_ENV}, else a "
        f"prompt when run in a terminal, else {DEFAULT_DEMO_PASSWORD}."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help=(
                "Password for every demo login. Other users of the machine can read it in "
                f"the process list: prefer ${PASSWORD_ENV} or the prompt."
            ),
        )

    def handle(self, *args, password: str | None, **options):
        password = password or os.environ.get(PASSWORD_ENV) or self._ask()
        logins = seed_demo(password=password)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in at /accounts/login/ as:"))
        width = max(len(login.email) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.email.ljust(width)}  {login.role}")
        if password == DEFAULT_DEMO_PASSWORD:
            self.stdout.write(f"Password for all of them: {password}")
        else:
            self.stdout.write("Password for all of them: the one you chose.")

    def _ask(self) -> str:
        """Ask in a terminal (Enter keeps the default); anywhere else, the default."""
        if not sys.stdin.isatty():
            return DEFAULT_DEMO_PASSWORD
        password = getpass(f"Password for every demo login (Enter for {DEFAULT_DEMO_PASSWORD}): ")
        if not password:
            return DEFAULT_DEMO_PASSWORD
        if getpass("The same password again: ") != password:
            raise CommandError("The two passwords differ. Run seed_demo again.")
        return password
