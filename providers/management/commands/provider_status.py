from django.core.management.base import BaseCommand

from portal.access import is_provider_admin_role
from providers.models import ProviderUserStatus
from providers.selectors import billing_rows, billing_totals, internal_org_row, provider_clients

from ._common import provider_by_name_or_id


class Command(BaseCommand):
    help = "Print a provider's clients, their seats, and its provider admins."

    def add_arguments(self, parser):
        parser.add_argument("provider", help="The provider's name or id.")

    def handle(self, *args, provider: str, **options):
        provider = provider_by_name_or_id(provider)
        state = "enabled" if provider.enabled else "DISABLED"
        self.stdout.write(f"{provider.name} ({provider.pk}), {state}")
        self._staff(provider)
        self._clients(provider)
        internal = internal_org_row(provider=provider)
        if internal is not None:
            self.stdout.write(
                f"\nInternal team (not a client): {internal.name}, {internal.seats_used} seats"
            )

    def _staff(self, provider) -> None:
        staff = list(provider.provider_users.order_by("email"))
        # Which roles are admin roles is the permission layer's decision.
        admins = [pu for pu in staff if is_provider_admin_role(pu.role)]
        confirmed = [pu for pu in admins if pu.status == ProviderUserStatus.CONFIRMED]
        self.stdout.write(f"\nProvider admins: {len(confirmed)} confirmed")
        for provider_user in admins:
            self.stdout.write(f"  {provider_user.email} ({provider_user.get_status_display()})")
        if len(confirmed) < 2:
            self.stdout.write(
                self.style.WARNING(
                    "  Fewer than two confirmed provider admins: add a second one for failover."
                )
            )
        self.stdout.write(f"Service users: {len(staff) - len(admins)}")

    def _clients(self, provider) -> None:
        write = self.stdout.write
        clients = provider_clients(provider=provider)
        rows = list(billing_rows(clients=clients))
        write(f"\nClients: {len(rows)}")
        if rows:
            width = max(len(client.name) for client in rows)
            write(f"  {'name':<{width}}  {'plan':<10} {'seats':>6} {'used':>6} {'left':>6}  id")
        for client in rows:
            flag = "" if client.enabled else "  (disabled)"
            write(
                f"  {client.name:<{width}}  {client.get_plan_display():<10} {client.seats:>6} "
                f"{client.seats_used:>6} {client.seats_remaining:>6}  {client.pk}{flag}"
            )
        write("\nSeats per plan:")
        for total in billing_totals(clients=clients):
            write(
                f"  {total.label}: {total.clients} clients, {total.seats_used} of {total.seats} "
                f"seats used, {total.seats_remaining} remaining"
            )
