"""Providers (MSPs) and their staff."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Provider(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    business_name = models.CharField(max_length=200, blank=True)
    billing_email = models.EmailField(blank=True)
    enabled = models.BooleanField(default=True)
    internal_org = models.OneToOneField(
        "clients.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="internal_of_provider",
        help_text="The provider's own team: shown apart, not counted as a client.",
    )
    # Every provider user must have two-step login on (enforced at their next request).
    require_two_step = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProviderRole(models.TextChoices):
    ADMIN = "admin", "Provider admin"
    SERVICE_USER = "service_user", "Service user"


class ProviderUserStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    ACCEPTED = "accepted", "Accepted"
    CONFIRMED = "confirmed", "Confirmed"


class ProviderUser(models.Model):
    """A member of a provider's staff. Only confirmed rows grant anything."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="provider_users")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="provider_users",
    )
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=ProviderRole.choices)
    status = models.CharField(
        max_length=20, choices=ProviderUserStatus.choices, default=ProviderUserStatus.INVITED
    )
    # Service users may be limited to a chosen list of clients.
    access_all_clients = models.BooleanField(default=True)
    client_scope = models.ManyToManyField(
        "clients.Organization", blank=True, related_name="scoped_provider_users"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "email"], name="provider_user_unique_email"
            ),
            models.UniqueConstraint(
                fields=["provider", "user"],
                name="provider_user_unique_user",
                condition=models.Q(user__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()}, {self.provider})"

    @property
    def is_confirmed(self) -> bool:
        return self.status == ProviderUserStatus.CONFIRMED
