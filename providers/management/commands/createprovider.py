from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from portal.accounts import set_password_url
from providers.services import provider_create


class Command(BaseCommand):
    help = "Create a provider with a confirmed provider admin."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The provider's display name, e.g. 'Acme IT'.")
        parser.add_argument("--admin-email", required=True, help="The first provider admin.")
        parser.add_argument("--business-name", default="")

    def handle(self, *args, name: str, admin_email: str, business_name: str, **options):
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("The provider name must be 1 to 100 characters.")
        try:
            validate_email(admin_email)
        except ValidationError as error:
            raise CommandError(f"{admin_email!r} is not a valid email address.") from error
        provider, new_user = provider_create(
            name=name, admin_email=admin_email, business_name=business_name
        )
        self.stdout.write(self.style.SUCCESS(f"Created provider {provider.name} ({provider.pk})."))
        admin = provider.provider_users.get().user
        if new_user or not admin.has_usable_password():
            self.stdout.write(f"{admin.email} has no password yet. Send them this link to set one:")
            self.stdout.write(f"  {set_password_url(admin)}")
        else:
            self.stdout.write(f"{admin.email} signs in with their existing password.")
