from django.core.management.base import BaseCommand

from providers.models import ProviderRole, ProviderUserStatus
from providers.selectors import billing_rows, billing_totals, internal_org_row

from ._lookup import provider_by_name_or_id


class Command(BaseCommand):
    help = "Print a provider's clients, their seats, and its provider admins."

    def add_arguments(self, parser):
        parser.add_argument("provider", help="The provider's name or id.")

    def handle(self, *args, provider: str, **options):
        provider = provider_by_name_or_id(provider)
        write = self.stdout.write
        state = "enabled" if provider.enabled else "DISABLED"
        write(f"{provider.name} ({provider.pk}), {state}")
        self._admins(provider)
        clients = list(billing_rows(provider=provider))
        write(f"\nClients: {len(clients)}")
        if clients:
            width = max(len(client.name) for client in clients)
            write(f"  {'name':<{width}}  {'plan':<10} {'seats':>6} {'used':>6} {'left':>6}  id")
        for client in clients:
            flag = "" if client.enabled else "  (disabled)"
            write(
                f"  {client.name:<{width}}  {client.get_plan_display():<10} {client.seats:>6} "
                f"{client.seats_used:>6} {client.seats_remaining:>6}  {client.pk}{flag}"
            )
        write("\nSeats per plan:")
        for total in billing_totals(provider=provider):
            write(
                f"  {total.label}: {total.clients} clients, {total.seats_used} of {total.seats} "
                f"seats used, {total.seats_remaining} remaining"
            )
        internal = internal_org_row(provider=provider)
        if internal is not None:
            write(f"\nInternal team (not a client): {internal.name}, {internal.seats_used} seats")

    def _admins(self, provider) -> None:
        staff = provider.provider_users.order_by("email")
        admins = staff.filter(role=ProviderRole.ADMIN)
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
        service_users = staff.filter(role=ProviderRole.SERVICE_USER).count()
        self.stdout.write(f"Service users: {service_users}")
