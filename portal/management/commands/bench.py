import importlib
import logging

from django.core.management.base import BaseCommand
from django.test import Client
from django.test.utils import (
    override_settings,
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)

from portal.benchmarking import BENCH_MODULES, BenchContext, reference_timing


class Command(BaseCommand):
    help = "Seed a scale data set into a fresh database and print each benchmark figure."

    def add_arguments(self, parser):
        parser.add_argument(
            "--clients", type=int, default=1000, help="Client orgs of the provider."
        )
        parser.add_argument("--members", type=int, default=20, help="Members per client.")
        parser.add_argument(
            "--items", type=int, default=10000, help="Vault items per client in the vault clients."
        )
        parser.add_argument(
            "--vault-clients", type=int, default=1, help="How many clients get --items items."
        )
        parser.add_argument("--repeat", type=int, default=20, help="Timed requests per figure.")
        parser.add_argument(
            "--skip",
            action="append",
            default=[],
            choices=BENCH_MODULES,
            help="Leave out a module's seed and figures (repeatable), e.g. the 100,000-item "
            "import while working on pages.",
        )

    def handle(self, *args, **options):
        ctx = BenchContext(
            clients=options["clients"],
            members_per_client=options["members"],
            items_per_client=options["items"],
            vault_clients=options["vault_clients"],
            repeat=options["repeat"],
        )
        modules = [
            importlib.import_module(name) for name in BENCH_MODULES if name not in options["skip"]
        ]
        # Each timed request would print its log line (portal.logging_config) among the figures.
        logging.getLogger("portal.request").setLevel(logging.WARNING)
        # So would the vault's note of each name index the rebuild figure rebuilds.
        logging.getLogger("vault").setLevel(logging.WARNING)
        self.stdout.write("Creating a fresh benchmark database...")
        # Measured as production runs: DEBUG off, but plain HTTP from the test client.
        setup_test_environment(debug=False)
        old_config = setup_databases(verbosity=0, interactive=False)
        try:
            self._run(ctx, modules)
        finally:
            teardown_databases(old_config, verbosity=0)
            teardown_test_environment()

    @override_settings(SECURE_SSL_REDIRECT=False)
    def _run(self, ctx: BenchContext, modules) -> None:
        for module in modules:
            self.stdout.write(f"Seeding {module.__name__}...")
            module.seed(ctx)
        self.stdout.write("Figures:")
        for module in modules:
            for figure in module.figures(ctx):
                # Measured again beside each figure: the machine's speed drifts during a run.
                reference = reference_timing(Client(), repeat=ctx.repeat).median_ms
                self.stdout.write(f"  {figure.line(reference)}")
        for note in ctx.shared.get("notes", []):
            self.stdout.write(f"  Note: {note}")
        reference = reference_timing(Client(), repeat=ctx.repeat)
        self.stdout.write(
            f"Reference: GET /healthz/, median {reference.median_ms:,.1f} ms "
            f"({reference.queries} query); each [Nx] above is a page's median over it."
        )
