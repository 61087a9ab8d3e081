from django.core.management.base import BaseCommand, CommandError

from clients.selectors.figures import client_figures_drift
from clients.services.figures import client_figures_recount


class Command(BaseCommand):
    help = (
        "Recount every client's dashboard figures (members by status, seats used, pending "
        "invitations, members without two-step login, policies on, last activity) from the "
        "tables. With --check, only report the clients whose stored figures differ."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; list the differences and exit with status 1 if there are any.",
        )

    def handle(self, *args, check: bool = False, **options):
        if check:
            problems = client_figures_drift()
            for problem in problems:
                self.stdout.write(problem)
            if problems:
                raise CommandError(f"{len(problems)} stored figures differ from a recount.")
            self.stdout.write("Every client's stored figures match a recount.")
            return
        before = client_figures_drift()
        count = client_figures_recount()
        self.stdout.write(
            f"Recounted the figures of {count} organizations; {len(before)} "
            f"{'figure was' if len(before) == 1 else 'figures were'} out of date."
        )
