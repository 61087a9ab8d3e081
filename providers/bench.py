"""Scale data and figures for the provider portal.

The dashboard's per-client figures (members by status, pending invitations, policies,
members without two-step login, last activity) are stored per client and kept by database
triggers, so the seed fills the tables they count at scale, the triggers fill the
figures as the rows go in, and a recount check fails the bench if any stored figure
differs from the tables: a dashboard that only looks fast on empty tables is not.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.models import MemberRole, Membership, MemberStatus, Organization
from clients.selectors.figures import client_figures_drift
from policies.models import Policy, PolicyType
from portal.benchmarking import BenchContext, Figure, time_page
from portal.models import Event, EventType, Invitation
from portal.services import INVITATION_LIFETIME
from providers.models import Provider, ProviderRole, ProviderUser, ProviderUserStatus
from providers.selectors import DASHBOARD_SORTS

DASHBOARD_TARGET_MS = 150
# Every figure column of the dashboard, timed sorted (descending: the worst first).
FIGURE_SORTS = {
    key: DASHBOARD_SORTS[key] for key in DASHBOARD_SORTS if key not in ("name", "plan", "seats")
}
EVENTS_PER_CLIENT = 10


def seed(ctx: BenchContext) -> None:
    provider, admin, orgs = seed_provider(
        name="Bench MSP", clients=ctx.clients, members_per_client=ctx.members_per_client
    )
    check_figures_and_analyze()
    ctx.shared.update(provider=provider, provider_admin=admin, orgs=orgs)


def seed_provider(
    *, name: str, clients: int, members_per_client: int, email_prefix: str = ""
) -> tuple[Provider, Any, list[Organization]]:
    """A provider with its admin and `clients` client orgs of `members_per_client`
    members each, their devices, invitations, policies and events.

    `email_prefix` keeps the users of several seeded providers apart.
    """
    User = get_user_model()
    provider = Provider.objects.create(name=name)
    admin = User.objects.create_user(f"{email_prefix}bench-admin@bench.test", "bench-password-123")
    ProviderUser.objects.create(
        provider=provider,
        user=admin,
        email=admin.email,
        role=ProviderRole.ADMIN,
        status=ProviderUserStatus.CONFIRMED,
    )
    orgs = Organization.objects.bulk_create(
        Organization(name=f"Client {n:05d}", seats=members_per_client + 5, provider=provider)
        for n in range(clients)
    )
    members = _seed_members(orgs, members_per_client, email_prefix)
    _seed_health(orgs, members)
    return provider, admin, orgs


def check_figures_and_analyze() -> None:
    """After a seed: fail if a stored client figure differs from the tables, then leave
    the database as autovacuum would (compacted figures, planner statistics)."""
    drift = client_figures_drift()
    if drift:
        raise RuntimeError(f"The stored client figures differ from the tables: {drift[:5]}")
    if connection.vendor == "postgresql":
        # Measured as production runs: there autovacuum keeps planner statistics, which
        # a freshly bulk-loaded database lacks until its first ANALYZE, and reuses the
        # space of old row versions as they come. The seed rewrote each client's figures
        # row once per row it added, all at once: compact the table to its live rows.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM FULL clients_clientfigures")
            cursor.execute("ANALYZE")


def _seed_members(
    orgs: list[Organization], members_per_client: int, email_prefix: str
) -> list[Membership]:
    User = get_user_model()
    users = User.objects.bulk_create(
        (
            User(email=f"{email_prefix}m{n}-{i}@bench.test", password="!")
            for n in range(len(orgs))
            for i in range(members_per_client)
        ),
        batch_size=5000,
    )
    members = (
        Membership(
            org=org,
            user=users[n * members_per_client + i],
            email=users[n * members_per_client + i].email,
            role=MemberRole.OWNER if i == 0 else MemberRole.USER,
            status=MemberStatus.CONFIRMED if i % 5 else MemberStatus.INVITED,
        )
        for n, org in enumerate(orgs)
        for i in range(members_per_client)
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
        # Ten clients (Client 00010 to 00019) at every size from 20 clients: the same page
        # to draw, so the figure shows what the search costs, not how many rows it shows.
        "searched by name": "?q=Client+0001",
        **{f"sorted by {label.lower()}": f"?sort=-{key}" for key, label in FIGURE_SORTS.items()},
        "page 20": "?page=20",
    }
    for name, query in variants.items():
        timing = time_page(browser, url + query, repeat=ctx.repeat)
        figures.append(
            Figure(f"{label} {name}, median", timing.median_ms, "ms", DASHBOARD_TARGET_MS)
        )
    return figures
