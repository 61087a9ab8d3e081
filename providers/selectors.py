"""Reads for the provider portal, always scoped to the provider (and the actor's client scope)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from clients.models import MemberStatus, Organization
from portal.access import ProviderActor

from .models import Provider, ProviderUserStatus


def provider_list_for_user(user) -> QuerySet[Provider]:
    return Provider.objects.filter(
        enabled=True,
        provider_users__user=user,
        provider_users__status=ProviderUserStatus.CONFIRMED,
    ).order_by("name")


def client_list_for_actor(*, actor: ProviderActor, search: str = "") -> QuerySet[Organization]:
    """The clients the actor may see, each annotated with its seat and member counts."""
    clients = Organization.objects.filter(provider=actor.provider)
    if actor.provider.internal_org_id:
        clients = clients.exclude(pk=actor.provider.internal_org_id)
    provider_user = actor.provider_user
    if not actor.is_admin and not provider_user.access_all_clients:
        clients = clients.filter(scoped_provider_users=provider_user)
    if search:
        clients = clients.filter(name__icontains=search.strip())
    return clients.annotate(
        seats_used=Count("memberships", filter=~Q(memberships__status=MemberStatus.REVOKED)),
        confirmed_members=Count(
            "memberships", filter=Q(memberships__status=MemberStatus.CONFIRMED)
        ),
    ).order_by("name", "pk")
