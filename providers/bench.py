"""Scale data and figures for the provider portal.

The dashboard's per-client figures (members by status, pending invitations, policies,
members without two-step login, last activity) all read their own tables, so the seed
fills each of them at scale: a dashboard that only looks fast on empty tables is not.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.models import MemberRole, Membership, MemberStatus, Organization
from policies.models import Policy, PolicyType
from portal.benchmarking import BenchContext, Figure, time_page
from portal.models import Event, EventType, Invitation
from portal.services import INVITATION_LIFETIME
from providers.models import Provider, ProviderRole, ProviderUser, ProviderUserStatus

DASHBOARD_TARGET_MS = 200
EVENTS_PER_CLIENT = 10


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
    members = _seed_members(ctx, orgs)
    _seed_health(orgs, members)
    if connection.vendor == "postgresql":
        # Measured as production runs: there autovacuum keeps planner statistics, which
        # a freshly bulk-loaded database lacks until its first ANALYZE.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    ctx.shared.update(provider=provider, provider_admin=admin, orgs=orgs)


def _seed_members(ctx: BenchContext, orgs: list[Organization]) -> list[Membership]:
    User = get_user_model()
    users = User.objects.bulk_create(
        (
            User(email=f"m{n}-{i}@bench.test", password="!")
            for n in range(ctx.clients)
            for i in range(ctx.members_per_client)
        ),
        batch_size=5000,
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
    return Membership.objects.bulk_create(members, batch_size=5000)


def _seed_health(orgs: list[Organization], members: list[Membership]) -> None:
    """Two-step devices for half the confirmed members, pending invitations for the
    invited ones, two policies per client (one on), and some events per client."""
    now = timezone.now()
    confirmed = [m for m in members if m.status == MemberStatus.CONFIRMED]
    TOTPDevice.objects.bulk_create(
        (TOTPDevice(user_id=m.user_id, name="phone", confirmed=True) for m in confirmed[::2]),
        batch_size=5000,
    )
    invited = [m for m in members if m.status == MemberStatus.INVITED]
    Invitation.objects.bulk_create(
        (
            Invitation(email=m.email, membership=m, expires_at=now + INVITATION_LIFETIME)
            for m in invited
        ),
        batch_size=5000,
    )
    Policy.objects.bulk_create(
        (
            Policy(org=org, type=policy_type, enabled=policy_type == PolicyType.TWO_STEP_LOGIN)
            for org in orgs
            for policy_type in (PolicyType.TWO_STEP_LOGIN, PolicyType.SINGLE_ORG)
        ),
        batch_size=5000,
    )
    Event.objects.bulk_create(
        (
            Event(
                org=org,
                type=EventType.MEMBER_UPDATED,
                occurred_at=now - timedelta(minutes=n * EVENTS_PER_CLIENT + i),
            )
            for n, org in enumerate(orgs)
            for i in range(EVENTS_PER_CLIENT)
        ),
        batch_size=5000,
    )


def figures(ctx: BenchContext) -> list[Figure]:
    browser = ctx.logged_in_client(ctx.shared["provider_admin"])
    url = reverse("provider_dashboard", args=[ctx.shared["provider"].pk])
    members = ctx.clients * ctx.members_per_client
    label = f"provider dashboard ({ctx.clients:,} clients, {members:,} members)"
    first = time_page(browser, url, repeat=ctx.repeat)
    figures = [
        Figure(f"{label}, median", first.median_ms, "ms", DASHBOARD_TARGET_MS),
        Figure(f"{label}, queries per page", first.queries, "queries"),
    ]
    variants = {
        "searched by name": "?q=Client+009",
        "sorted by last activity": "?sort=-last_activity",
        "sorted by members without two-step login": "?sort=-without_two_step",
        "page 20": "?page=20",
    }
    for name, query in variants.items():
        timing = time_page(browser, url + query, repeat=ctx.repeat)
        figures.append(
            Figure(f"{label} {name}, median", timing.median_ms, "ms", DASHBOARD_TARGET_MS)
        )
    return figures
