from django.core.management.base import BaseCommand

from portal.demo import seed_demo

DEFAULT_DEMO_PASSWORD = "demo-password-2026"


class Command(BaseCommand):
    help = "Create (or refresh) the demo provider, clients, members and vault data. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEFAULT_DEMO_PASSWORD,
            help=f"Password for every demo login (default: {DEFAULT_DEMO_PASSWORD}).",
        )

    def handle(self, *args, password: str, **options):
        logins = seed_demo(password=password)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in at /accounts/login/ as:"))
        width = max(len(login.email) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.email.ljust(width)}  {login.role}")
        self.stdout.write(f"Password for all of them: {password}")
