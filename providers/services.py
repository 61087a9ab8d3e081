"""Writes on providers and their staff."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from portal.events import record_event
from portal.models import EventType

from .models import Provider, ProviderRole, ProviderUser, ProviderUserStatus


@transaction.atomic
def provider_create(*, name: str, admin_email: str, business_name: str = "") -> tuple[Provider, bool]:
    """Create a provider with a confirmed admin. Returns the provider and whether the
    admin's account is new (and so has no password yet)."""
    User = get_user_model()
    email = admin_email.strip().lower()
    user = User.objects.filter(email=email).first()
    created_user = user is None
    if created_user:
        user = User.objects.create_user(email)
    provider = Provider.objects.create(name=name, business_name=business_name, billing_email=email)
    ProviderUser.objects.create(
        provider=provider,
        user=user,
        email=email,
        role=ProviderRole.ADMIN,
        status=ProviderUserStatus.CONFIRMED,
    )
    record_event(EventType.PROVIDER_CREATED, provider=provider, obj=provider)
    return provider, created_user


@transaction.atomic
def provider_user_add_confirmed(*, provider: Provider, user, role: str) -> ProviderUser:
    """Add an existing account as confirmed staff (operators and seeding)."""
    provider_user, _ = ProviderUser.objects.update_or_create(
        provider=provider,
        email=user.email,
        defaults={"user": user, "role": role, "status": ProviderUserStatus.CONFIRMED},
    )
    return provider_user
