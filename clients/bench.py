"""Scale data and figures for a client's administration pages.

One client of the bench provider gets 5,000 members, 500 groups and a collection
shared 1,000 times (members and groups), the sizes the issue names. The pages must
answer in a number of queries that does not grow with those rows (the tests pin the
counts) and at a median of at most 150 ms.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import NoReverseMatch, reverse

from portal.benchmarking import BenchContext, Figure, time_page

from .models import (
    AccessLevel,
    Collection,
    CollectionGroupGrant,
    CollectionMemberGrant,
    Group,
    MemberRole,
    Membership,
    MemberStatus,
    Organization,
)

PAGE_TARGET_MS = 150
MEMBERS = 5_000
GROUPS = 500
MEMBERS_PER_GROUP = 10
MEMBER_GRANTS = 900
GROUP_GRANTS = 100  # 1,000 grants on the collection in all
_LEVELS = list(AccessLevel.values)


def seed(ctx: BenchContext) -> None:
    User = get_user_model()
    org = Organization.objects.create(
        name="Bench Big Client", seats=MEMBERS + 10, provider=ctx.shared.get("provider")
    )
    owner = User.objects.create_user("big-owner@bench.test", "bench-password-123")
    users = User.objects.bulk_create(
        (User(email=f"big{n:05d}@bench.test", password="!") for n in range(MEMBERS)),
        batch_size=5000,
    )
    Membership.objects.create(
        org=org, user=owner, email=owner.email, role=MemberRole.OWNER, status=MemberStatus.CONFIRMED
    )
    statuses = [MemberStatus.CONFIRMED] * 7 + [MemberStatus.ACCEPTED, MemberStatus.INVITED]
    members = Membership.objects.bulk_create(
        (
            Membership(
                org=org,
                user=user,
                email=user.email,
                role=MemberRole.USER if n % 10 else MemberRole.ADMIN,
                status=statuses[n % len(statuses)],
            )
            for n, user in enumerate(users)
        ),
        batch_size=5000,
    )
    groups = Group.objects.bulk_create(
        (Group(org=org, name=f"Group {n:04d}") for n in range(GROUPS)), batch_size=5000
    )
    Group.members.through.objects.bulk_create(
        (
            Group.members.through(
                group_id=group.pk, membership_id=members[(g * 7 + i) % MEMBERS].pk
            )
            for g, group in enumerate(groups)
            for i in range(MEMBERS_PER_GROUP)
        ),
        batch_size=5000,
    )
    collection = Collection.objects.create(org=org, name="Shared/Everyone")
    Collection.objects.bulk_create(
        Collection(org=org, name=f"Team {n:03d}/Passwords") for n in range(50)
    )
    CollectionMemberGrant.objects.bulk_create(
        CollectionMemberGrant(
            collection=collection, membership=member, level=_LEVELS[n % len(_LEVELS)]
        )
        for n, member in enumerate(members[:MEMBER_GRANTS])
    )
    CollectionGroupGrant.objects.bulk_create(
        CollectionGroupGrant(collection=collection, group=group, level=_LEVELS[n % len(_LEVELS)])
        for n, group in enumerate(groups[:GROUP_GRANTS])
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    ctx.shared["big_client"] = (org, owner, collection)


def _url(names: tuple[str, ...], **kwargs) -> str | None:
    for name in names:
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    return None


def figures(ctx: BenchContext) -> list[Figure]:
    org, owner, collection = ctx.shared["big_client"]
    pages = [
        (f"members page ({MEMBERS:,} members)", ("org_members",), {"org_id": org.pk}),
        (f"groups page ({GROUPS:,} groups)", ("org_groups",), {"org_id": org.pk}),
        (
            f"collection access tab ({MEMBER_GRANTS + GROUP_GRANTS:,} grants)",
            ("org_collection_access",),
            {"org_id": org.pk, "collection_id": collection.pk},
        ),
    ]
    results = []
    for who, user in (("owner", owner), ("provider admin", ctx.shared.get("provider_admin"))):
        if user is None:
            continue
        browser = ctx.logged_in_client(user)
        for label, names, kwargs in pages:
            url = _url(names, **kwargs)
            if url is None:
                continue
            timing = time_page(browser, url, repeat=ctx.repeat)
            results += [
                Figure(f"{label}, {who}, median", timing.median_ms, "ms", PAGE_TARGET_MS),
                Figure(f"{label}, {who}, queries per page", timing.queries, "queries"),
            ]
    return results
