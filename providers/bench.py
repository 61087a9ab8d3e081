"""Scale data and figures for the provider portal."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse

from clients.models import MemberRole, MemberStatus, Membership, Organization
from portal.benchmarking import BenchContext, Figure, time_page
from providers.models import Provider, ProviderRole, ProviderUser, ProviderUserStatus

DASHBOARD_TARGET_MS = 200


def seed(ctx: BenchContext) -> None:
    User = get_user_model()
    provider = Provider.objects.create(name="Bench MSP")
    admin = User.objects.create_user("bench-admin@bench.test", "bench-password-123")
    ProviderUser.objects.create(
        provider=provider,
        user=admin,
        email=admin.email,
        role=ProviderRole.ADMIN,
        status=ProviderUserStatus.CONFIRMED,
    )
    orgs = Organization.objects.bulk_create(
        Organization(name=f"Client {n:05d}", seats=ctx.members_per_client + 5, provider=provider)
        for n in range(ctx.clients)
    )
    users = User.objects.bulk_create(
        User(email=f"m{n}-{i}@bench.test", password="!")
        for n in range(ctx.clients)
        for i in range(ctx.members_per_client)
    )
    members = (
        Membership(
            org=org,
            user=users[n * ctx.members_per_client + i],
            email=users[n * ctx.members_per_client + i].email,
            role=MemberRole.OWNER if i == 0 else MemberRole.USER,
            status=MemberStatus.CONFIRMED if i % 5 else MemberStatus.INVITED,
        )
        for n, org in enumerate(orgs)
        for i in range(ctx.members_per_client)
    )
    Membership.objects.bulk_create(members, batch_size=5000)
    ctx.shared.update(provider=provider, provider_admin=admin, orgs=orgs)


def figures(ctx: BenchContext) -> list[Figure]:
    browser = ctx.logged_in_client(ctx.shared["provider_admin"])
    url = reverse("provider_dashboard", args=[ctx.shared["provider"].pk])
    label = f"provider dashboard ({ctx.clients:,} clients, {ctx.clients * ctx.members_per_client:,} members)"
    first = time_page(browser, url, repeat=ctx.repeat)
    searched = time_page(browser, url + "?q=Client+009", repeat=ctx.repeat)
    return [
        Figure(f"{label}, median", first.median_ms, "ms", DASHBOARD_TARGET_MS),
        Figure(f"{label}, queries per page", first.queries, "queries"),
        Figure(f"{label} searched by name, median", searched.median_ms, "ms", DASHBOARD_TARGET_MS),
    ]
