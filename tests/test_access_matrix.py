"""The access matrix: every URL pattern of the portal, and what each actor gets.

A route added without an entry in ROUTES fails `test_every_route_has_an_entry`.
Each entry gives the URL kwargs (built from the `world` fixture of conftest.py) and the
expected status per actor. `foreign` gives kwargs naming objects of another org or
provider: every signed-in actor of `world.org` must get 404 there, as for a stranger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ANON = "anonymous"
STRANGER = "stranger"  # charlie: owner of another org of another provider
OWNER = "owner"
ADMIN = "admin"
USER = "user"
CUSTOM = "custom"  # custom role with "manage users" only
PROVIDER_ADMIN = "provider_admin"
SERVICE_USER = "service_user"
OTHER_PROVIDER_ADMIN = "other_provider_admin"
ACTORS = [
    ANON,
    STRANGER,
    OWNER,
    ADMIN,
    USER,
    CUSTOM,
    PROVIDER_ADMIN,
    SERVICE_USER,
    OTHER_PROVIDER_ADMIN,
]
SIGNED_IN = [actor for actor in ACTORS if actor != ANON]
# Actors whose home org / provider is `world.org` / `world.provider`.
WORLD_ORG_ACTORS = [OWNER, ADMIN, USER, CUSTOM, PROVIDER_ADMIN, SERVICE_USER]

LOGIN = 302  # anonymous visitors are sent to the login page


def user_for(world, actor: str):
    return {
        ANON: None,
        STRANGER: world.charlie,
        OWNER: world.alice,
        ADMIN: world.org_admin,
        USER: world.bob,
        CUSTOM: world.custom,
        PROVIDER_ADMIN: world.provider_admin,
        SERVICE_USER: world.service_user,
        OTHER_PROVIDER_ADMIN: world.other_provider_admin,
    }[actor]


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ACTORS, status)


def signed_in(status: int, *, anonymous: int = LOGIN) -> dict[str, int]:
    return {ANON: anonymous, **dict.fromkeys(SIGNED_IN, status)}


def org_page(**overrides: int) -> dict[str, int]:
    """An org page: members and its provider's staff 200, strangers 404."""
    expected = {
        ANON: LOGIN,
        STRANGER: 404,
        OTHER_PROVIDER_ADMIN: 404,
        **dict.fromkeys(WORLD_ORG_ACTORS, 200),
    }
    expected.update(overrides)
    return expected


def provider_page(**overrides: int) -> dict[str, int]:
    """A provider page: its staff 200, everyone else 404."""
    expected = {**signed_in(404), PROVIDER_ADMIN: 200, SERVICE_USER: 200}
    expected.update(overrides)
    return expected


@dataclass(frozen=True)
class Route:
    kwargs: Callable[[object], dict] = lambda world: {}
    expect: dict[str, int] = field(default_factory=dict)
    method: str = "get"
    data: Callable[[object], dict] = lambda world: {}
    foreign: Callable[[object], dict] | None = None
    # Methods this route answers; any other must get 405.
    allows: tuple[str, ...] = ("GET",)


def org_kwargs(world) -> dict:
    return {"org_id": world.org.pk}


def other_org_kwargs(world) -> dict:
    return {"org_id": world.other_org.pk}


def member_of(world, user, org=None):
    return (org or world.org).memberships.get(user=user)


def provider_kwargs(world, **extra) -> dict:
    return {"provider_id": world.provider.pk, **extra}


def other_provider_kwargs(world, **extra) -> dict:
    return {"provider_id": world.other_provider.pk, **extra}


def service_user_row(world):
    return world.provider.provider_users.get(user=world.service_user)


def admin_page(**overrides: int) -> dict[str, int]:
    """A provider page for provider admins only: service users 403, everyone else 404."""
    return provider_page(**{SERVICE_USER: 403, **overrides})


def admin_action(**overrides: int) -> dict[str, int]:
    """A provider admin's POST: done and redirected (302); the rest as admin_page."""
    return admin_page(**{PROVIDER_ADMIN: 302, **overrides})


def world_baseline(world, provider=None):
    """A policy baseline of the provider (world.provider unless named)."""
    from policies.models import Baseline

    provider = provider or world.provider
    return Baseline.objects.get_or_create(provider=provider, name="Standard")[0]


def world_baseline_job(world, provider=None):
    """A finished job that applied the provider's baseline (nothing is run)."""
    from policies.models import BaselineApplyJob, BaselineJobStatus

    baseline = world_baseline(world, provider)
    return BaselineApplyJob.objects.get_or_create(
        provider=baseline.provider,
        baseline=baseline,
        defaults={"baseline_name": baseline.name, "status": BaselineJobStatus.SUCCEEDED},
    )[0]


def vault_item(world):
    """The world's orgs get vault keys, and each one login (bob can view alice's)."""
    if not hasattr(world, "vault_item"):
        from tests.vault.conftest import give_keys, make_item

        give_keys(world.org, world.other_org)
        world.vault_item = make_item(world.alice, world.org, [world.collection])
        world.other_vault_item = make_item(world.charlie, world.other_org, [world.other_collection])
    return world.vault_item


def vault_item_kwargs(world) -> dict:
    return {"org_id": world.org.pk, "item_id": vault_item(world).pk}


def other_vault_item_kwargs(world) -> dict:
    vault_item(world)
    return {"org_id": world.other_org.pk, "item_id": world.other_vault_item.pk}


def world_group(world, org=None):
    """A group in `org` (the world's org by default), made once per test."""
    from tests.factories import GroupFactory

    org = org or world.org
    groups = world.__dict__.setdefault("groups_by_org", {})
    if org.pk not in groups:
        groups[org.pk] = GroupFactory(org=org, name=f"Team of {org.name}")
    return groups[org.pk]


def recovery_member_kwargs(world, org=None) -> dict:
    """An org with account recovery on and a confirmed user member enrolled in it."""
    from clients.models import Membership
    from policies.models import AccountRecoveryEnrollment, Policy, PolicyType
    from tests.factories import MembershipFactory

    org = org or world.org
    Policy.objects.update_or_create(
        org=org, type=PolicyType.ACCOUNT_RECOVERY, defaults={"enabled": True}
    )
    member = Membership.objects.filter(org=org, recovery_enrollment__isnull=False).first()
    if member is None:
        member = MembershipFactory(org=org)
        AccountRecoveryEnrollment.objects.create(membership=member)
    return {"org_id": org.pk, "member_id": member.pk}


def import_job(world, org):
    """A finished import job of `org` (no upload: the page shows counts only)."""
    from vault.models import ImportJob, ImportStatus, ImportTarget

    return ImportJob.objects.create(
        org=org, target=ImportTarget.FROM_FILE, status=ImportStatus.SUCCEEDED, counts={"login": 1}
    )


def vault_page(**levels: int) -> dict[str, int]:
    """A vault page: provider staff get 404 like strangers (the vault does not exist for them);
    members answer per their item access (bob: "can view" on the shared collection; the custom
    role: no grant, so no item)."""
    return org_page(**{PROVIDER_ADMIN: 404, SERVICE_USER: 404, **levels})


ROUTES: dict[str, Route] = {
    "home": Route(
        # Every actor of the world reaches exactly one place, so home redirects there.
        expect=signed_in(302),
    ),
    "healthz": Route(expect=everyone(200), allows=("GET", "HEAD")),
    "livez": Route(expect=everyone(200), allows=("GET", "HEAD")),
    "login": Route(expect={**signed_in(302), ANON: 200}, allows=("GET", "POST")),
    "logout": Route(method="post", expect=everyone(302), allows=("POST", "OPTIONS")),
    "password_change": Route(expect=signed_in(200), allows=("GET", "POST")),
    "password_change_done": Route(expect=signed_in(200)),
    "two_step": Route(expect=signed_in(200), allows=("GET", "POST")),
    # Without two-step login on, there are no codes to renew: back to its setup page.
    "two_step_recovery_codes": Route(expect=signed_in(302), method="post", allows=("POST",)),
    # Only a session locked by a vault timeout policy sees the form; others go home.
    "session_unlock": Route(expect=signed_in(302), allows=("GET", "POST")),
    # Secret links: without a valid token (in the query string, or kept in the session),
    # everyone gets the page saying the link cannot be used.
    "set_password_open": Route(expect=everyone(200)),
    "password_reset_confirm": Route(
        kwargs=lambda world: {"uidb64": "MQ", "token": "bad-token"},
        expect=everyone(200),  # the "link cannot be used" page
        allows=("GET", "POST"),
    ),
    "password_reset_complete": Route(expect=everyone(200)),
    "invitation_open": Route(expect=everyone(404)),
    "invitation_accept": Route(expect=everyone(404), allows=("GET", "POST")),
    "invitation_link_in_path": Route(
        kwargs=lambda world: {"token": "no-such-invitation-token"}, expect=everyone(404)
    ),
    "provider_dashboard": Route(
        kwargs=lambda world: {"provider_id": world.provider.pk},
        expect=provider_page(),
        foreign=lambda world: {"provider_id": world.other_provider.pk},
    ),
    # A plain user opens the org on their vault (302); those who run it get the overview.
    # Hides the one-admin banner for the session, then back to the page (302).
    "provider_banner_dismiss": Route(
        kwargs=provider_kwargs,
        method="post",
        expect=provider_page(**{PROVIDER_ADMIN: 302, SERVICE_USER: 302}),
        foreign=other_provider_kwargs,
        allows=("POST",),
    ),
    "org_overview": Route(
        kwargs=org_kwargs, expect=org_page(**{USER: 302}), foreign=other_org_kwargs
    ),
    "org_members": Route(
        kwargs=org_kwargs, expect=org_page(**{USER: 403}), foreign=other_org_kwargs
    ),
    # Members (issue: members). The custom role manages users, so it reaches these pages.
    "org_members_invite": Route(
        kwargs=org_kwargs,
        expect=org_page(**{USER: 403}),
        foreign=other_org_kwargs,
        allows=("GET", "POST"),
    ),
    "org_members_bulk": Route(
        kwargs=org_kwargs,
        method="post",
        expect=org_page(  # nothing ticked: redirected back with the reason
            **{
                OWNER: 302,
                ADMIN: 302,
                USER: 403,
                CUSTOM: 302,
                PROVIDER_ADMIN: 302,
                SERVICE_USER: 302,
            }
        ),
        foreign=other_org_kwargs,
        allows=("POST",),
    ),
    "org_member_edit": Route(
        kwargs=lambda world: {**org_kwargs(world), "member_id": member_of(world, world.bob).pk},
        expect=org_page(**{USER: 403}),
        # Another org's member under this org's URL: see tests/clients/test_members_edit.py.
        foreign=lambda world: {
            **other_org_kwargs(world),
            "member_id": member_of(world, world.charlie, world.other_org).pk,
        },
        allows=("GET", "POST"),
    ),
    # Members leave; provider staff have no membership to leave.
    "org_leave": Route(
        kwargs=org_kwargs,
        expect=org_page(**{PROVIDER_ADMIN: 404, SERVICE_USER: 404}),
        foreign=other_org_kwargs,
        allows=("GET", "POST"),
    ),
    "org_groups": Route(
        kwargs=org_kwargs, expect=org_page(**{USER: 403, CUSTOM: 403}), foreign=other_org_kwargs
    ),
    "org_collections": Route(
        kwargs=org_kwargs, expect=org_page(**{USER: 403, CUSTOM: 403}), foreign=other_org_kwargs
    ),
    # Groups and collections: pages of those who manage them (bob's "can view" is not
    # "can manage"). The custom role with other flags, and "can manage" members: see
    # tests/clients/test_groups_access.py and test_collections_access.py.
    "org_group_new": Route(
        kwargs=org_kwargs,
        expect=org_page(**{USER: 403, CUSTOM: 403}),
        foreign=other_org_kwargs,
        allows=("GET", "POST"),
    ),
    **{
        name: Route(
            kwargs=lambda world: {**org_kwargs(world), "group_id": world_group(world).pk},
            expect=org_page(**{USER: 403, CUSTOM: 403}),
            foreign=lambda world: {
                **other_org_kwargs(world),
                "group_id": world_group(world, world.other_org).pk,
            },
            allows=("GET", "POST"),
        )
        for name in (
            "org_group_edit",
            "org_group_members",
            "org_group_collections",
            "org_group_delete",
        )
    },
    "org_collection_new": Route(
        kwargs=org_kwargs,
        expect=org_page(**{USER: 403, CUSTOM: 403}),
        foreign=other_org_kwargs,
        allows=("GET", "POST"),
    ),
    **{
        name: Route(
            kwargs=lambda world: {**org_kwargs(world), "collection_id": world.collection.pk},
            expect=org_page(**{USER: 403, CUSTOM: 403}),
            foreign=lambda world: {
                **other_org_kwargs(world),
                "collection_id": world.other_collection.pk,
            },
            allows=("GET", "POST"),
        )
        for name in ("org_collection_edit", "org_collection_access", "org_collection_delete")
    },
    # Owners, admins, provider staff and the custom "manage policies" flag.
    "org_policies": Route(
        kwargs=org_kwargs, expect=org_page(**{USER: 403, CUSTOM: 403}), foreign=other_org_kwargs
    ),
    # Members enrol themselves; provider staff have no account there to enrol (403).
    "org_account_recovery": Route(
        kwargs=org_kwargs,
        expect=org_page(**{PROVIDER_ADMIN: 403, SERVICE_USER: 403}),
        foreign=other_org_kwargs,
        allows=("GET", "POST"),
    ),
    # Owners and admins only, never provider staff.
    "org_account_recovery_reset": Route(
        kwargs=recovery_member_kwargs,
        expect=org_page(**{USER: 403, CUSTOM: 403, PROVIDER_ADMIN: 403, SERVICE_USER: 403}),
        foreign=lambda world: recovery_member_kwargs(world, world.other_org),
        allows=("GET", "POST"),
    ),
    "org_policy_edit": Route(
        kwargs=lambda world: {**org_kwargs(world), "policy_key": "two_step_login"},
        expect=org_page(**{USER: 403, CUSTOM: 403}),
        foreign=lambda world: {**other_org_kwargs(world), "policy_key": "two_step_login"},
        allows=("GET", "POST"),
    ),
    "org_events": Route(
        kwargs=org_kwargs, expect=org_page(**{USER: 403, CUSTOM: 403}), foreign=other_org_kwargs
    ),
    "org_events_export": Route(
        kwargs=org_kwargs, expect=org_page(**{USER: 403, CUSTOM: 403}), foreign=other_org_kwargs
    ),
    # Owners, admins and the custom import/export flag; provider staff never (403).
    "org_export": Route(
        kwargs=org_kwargs,
        expect=org_page(**{USER: 403, CUSTOM: 403, PROVIDER_ADMIN: 403, SERVICE_USER: 403}),
        foreign=other_org_kwargs,
        allows=("GET", "POST"),
    ),
    # Owners, admins, the custom import/export flag and provider staff (write-only).
    "org_import": Route(
        kwargs=org_kwargs,
        expect=org_page(**{USER: 403, CUSTOM: 403}),
        foreign=other_org_kwargs,
        allows=("GET", "POST"),
    ),
    "org_import_job": Route(
        kwargs=lambda world: {**org_kwargs(world), "job_id": import_job(world, world.org).pk},
        expect=org_page(**{USER: 403, CUSTOM: 403}),
        foreign=lambda world: {
            **other_org_kwargs(world),
            "job_id": import_job(world, world.other_org).pk,
        },
    ),
    # Owners only: provider staff rename clients from the provider portal instead.
    "org_settings": Route(
        kwargs=org_kwargs,
        expect=org_page(
            **{ADMIN: 403, USER: 403, CUSTOM: 403, PROVIDER_ADMIN: 403, SERVICE_USER: 403}
        ),
        foreign=other_org_kwargs,
        allows=("GET", "POST"),
    ),
    # Provider portal (issue 4). Objects of another provider: see tests/providers for the
    # same-provider-URL cases (an admin gets 404 for another provider's user or client).
    "provider_users": Route(
        kwargs=provider_kwargs, expect=admin_page(), foreign=other_provider_kwargs
    ),
    "provider_users_invite": Route(
        kwargs=provider_kwargs,
        expect=admin_page(),
        foreign=other_provider_kwargs,
        allows=("GET", "POST"),
    ),
    "provider_users_resend": Route(
        kwargs=provider_kwargs,
        method="post",
        expect=admin_action(),  # nothing ticked: redirected back with the reason
        allows=("POST",),
    ),
    "provider_user_detail": Route(
        kwargs=lambda world: provider_kwargs(world, provider_user_id=service_user_row(world).pk),
        expect=admin_page(),
        foreign=lambda world: other_provider_kwargs(
            world, provider_user_id=world.other_provider.provider_users.get().pk
        ),
    ),
    "provider_user_role": Route(
        kwargs=lambda world: provider_kwargs(world, provider_user_id=service_user_row(world).pk),
        method="post",
        data=lambda world: {"role": "service_user"},
        expect=admin_action(),
        allows=("POST",),
    ),
    "provider_user_scope": Route(
        kwargs=lambda world: provider_kwargs(world, provider_user_id=service_user_row(world).pk),
        method="post",
        data=lambda world: {"scope": "all"},
        expect=admin_action(),
        allows=("POST",),
    ),
    "provider_user_confirm": Route(
        kwargs=lambda world: provider_kwargs(world, provider_user_id=service_user_row(world).pk),
        method="post",
        expect=admin_action(),  # already confirmed: redirected back with the reason
        allows=("POST",),
    ),
    "provider_user_remove": Route(
        kwargs=lambda world: provider_kwargs(world, provider_user_id=service_user_row(world).pk),
        expect=admin_page(),
        allows=("GET", "POST"),
    ),
    "provider_client_create": Route(
        kwargs=provider_kwargs, expect=admin_page(), allows=("GET", "POST")
    ),
    "provider_client_add": Route(
        kwargs=provider_kwargs, expect=admin_page(), allows=("GET", "POST")
    ),
    "provider_client_edit": Route(
        kwargs=lambda world: provider_kwargs(world, client_id=world.org.pk),
        expect=provider_page(),  # service users rename clients
        foreign=lambda world: provider_kwargs(world, client_id=world.other_org.pk),
        allows=("GET", "POST"),
    ),
    "provider_client_unlink": Route(
        kwargs=lambda world: provider_kwargs(world, client_id=world.org.pk),
        expect=admin_page(),
        foreign=lambda world: other_provider_kwargs(world, client_id=world.other_org.pk),
        allows=("GET", "POST"),
    ),
    "provider_billing": Route(
        kwargs=provider_kwargs, expect=admin_page(), foreign=other_provider_kwargs
    ),
    "provider_billing_export": Route(
        kwargs=provider_kwargs, expect=admin_page(), foreign=other_provider_kwargs
    ),
    "provider_internal_org": Route(
        kwargs=provider_kwargs,
        method="post",
        data=lambda world: {"org": ""},
        expect=admin_action(),
        allows=("POST",),
    ),
    "provider_two_step_setting": Route(
        kwargs=provider_kwargs,
        method="post",
        data=lambda world: {},
        expect=admin_action(),
        allows=("POST",),
    ),
    "provider_events": Route(
        kwargs=provider_kwargs, expect=admin_page(), foreign=other_provider_kwargs
    ),
    "provider_events_export": Route(
        kwargs=provider_kwargs, expect=admin_page(), foreign=other_provider_kwargs
    ),
    "provider_client_events": Route(
        kwargs=provider_kwargs, expect=admin_page(), foreign=other_provider_kwargs
    ),
    "provider_client_events_export": Route(
        kwargs=provider_kwargs, expect=admin_page(), foreign=other_provider_kwargs
    ),
    # Policy baselines (issue 10): provider admins only; a client's drift, all staff.
    "provider_baselines": Route(
        kwargs=provider_kwargs, expect=admin_page(), foreign=other_provider_kwargs
    ),
    "provider_baseline_create": Route(
        kwargs=provider_kwargs,
        expect=admin_page(),
        foreign=other_provider_kwargs,
        allows=("GET", "POST"),
    ),
    **{
        name: Route(
            kwargs=lambda world: provider_kwargs(world, baseline_id=world_baseline(world).pk),
            expect=admin_page(),
            foreign=lambda world: other_provider_kwargs(
                world, baseline_id=world_baseline(world, world.other_provider).pk
            ),
            allows=("GET", "POST"),
        )
        for name in (
            "provider_baseline_edit",
            "provider_baseline_delete",
            "provider_baseline_apply",
        )
    },
    "provider_baseline_job": Route(
        kwargs=lambda world: provider_kwargs(world, job_id=world_baseline_job(world).pk),
        expect=admin_page(),
        foreign=lambda world: other_provider_kwargs(
            world, job_id=world_baseline_job(world, world.other_provider).pk
        ),
    ),
    "provider_client_baseline": Route(
        kwargs=lambda world: provider_kwargs(world, client_id=world.org.pk),
        expect=provider_page(),
        foreign=lambda world: other_provider_kwargs(world, client_id=world.other_org.pk),
    ),
    # The vault (issue 3).
    "vault_item_list": Route(
        kwargs=org_kwargs, expect=vault_page(), foreign=other_org_kwargs, allows=("GET", "POST")
    ),
    "vault_item_type_choose": Route(
        kwargs=org_kwargs, expect=vault_page(**{USER: 403, CUSTOM: 403}), foreign=other_org_kwargs
    ),
    "vault_item_new": Route(
        kwargs=lambda world: {**org_kwargs(world), "item_type": "login"},
        expect=vault_page(**{USER: 403, CUSTOM: 403}),
        foreign=lambda world: {**other_org_kwargs(world), "item_type": "login"},
        allows=("GET", "POST"),
    ),
    # GET shows the item; POST field=<target> reveals one secret on the same page.
    "vault_item_detail": Route(
        kwargs=vault_item_kwargs,
        expect=vault_page(**{CUSTOM: 404}),
        foreign=other_vault_item_kwargs,
        allows=("GET", "POST"),
    ),
    "vault_item_edit": Route(
        kwargs=vault_item_kwargs,
        expect=vault_page(**{USER: 403, CUSTOM: 404}),
        foreign=other_vault_item_kwargs,
        allows=("GET", "POST"),
    ),
    "vault_item_copy": Route(
        kwargs=vault_item_kwargs,
        method="post",
        expect=vault_page(**{CUSTOM: 404}),
        foreign=other_vault_item_kwargs,
        allows=("POST",),
    ),
    "vault_item_totp": Route(
        kwargs=vault_item_kwargs,
        method="post",
        expect=vault_page(**{CUSTOM: 404}),
        foreign=other_vault_item_kwargs,
        allows=("POST",),
    ),
    "vault_item_favorite": Route(
        kwargs=vault_item_kwargs,
        method="post",
        data=lambda world: {"favorite": "1"},
        expect=vault_page(**{OWNER: 302, ADMIN: 302, USER: 302, CUSTOM: 404}),
        foreign=other_vault_item_kwargs,
        allows=("POST",),
    ),
    "vault_item_move": Route(
        kwargs=vault_item_kwargs,
        expect=vault_page(**{USER: 403, CUSTOM: 404}),
        foreign=other_vault_item_kwargs,
        allows=("GET", "POST"),
    ),
    **{
        name: Route(
            kwargs=vault_item_kwargs,
            method="post",
            data=lambda world: {"confirm": "1"},
            expect=vault_page(**{OWNER: 302, ADMIN: 302, USER: 403, CUSTOM: 404}),
            foreign=other_vault_item_kwargs,
            allows=("POST",),
        )
        for name in ("vault_item_trash", "vault_item_restore", "vault_item_delete")
    },
}

# Django's admin site has its own staff-only access control, tested in test_admin_site.
EXCLUDED_NAMESPACES = {"admin"}


def portal_route_names() -> list[str]:
    """Every named URL pattern outside the excluded namespaces; unnamed ones fail the suite."""
    names: list[str] = []

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in EXCLUDED_NAMESPACES:
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                name = pattern.name or f"<unnamed {pattern.pattern}>"
                names.append(f"{namespace}:{name}" if namespace else name)

    walk(get_resolver().url_patterns)
    return names


def request(client, route: Route, world, kwargs: dict, name: str):
    url = reverse(name, kwargs=kwargs)
    send = getattr(client, route.method)
    return send(url, route.data(world)) if route.method == "post" else send(url)


def test_every_route_has_an_entry():
    names = portal_route_names()
    missing = sorted(set(names) - set(ROUTES))
    assert not missing, f"Routes without an access-matrix entry: {missing}"
    stale = sorted(set(ROUTES) - set(names))
    assert not stale, f"Access-matrix entries for routes that no longer exist: {stale}"


def test_every_entry_names_every_actor():
    for name, route in ROUTES.items():
        assert set(route.expect) == set(ACTORS), f"{name} does not say what every actor gets"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_route_answers_actor(name, actor, world, login):
    route = ROUTES[name]
    client = login(user_for(world, actor))
    response = request(client, route, world, route.kwargs(world), name)
    assert response.status_code == route.expect[actor], (
        f"{route.method.upper()} {name} as {actor}: {response.status_code}"
    )
    if response.status_code == LOGIN and actor == ANON and name not in {"home", "logout"}:
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("actor", WORLD_ORG_ACTORS)
@pytest.mark.parametrize("name", sorted(n for n, r in ROUTES.items() if r.foreign))
def test_objects_of_another_tenant_answer_404(name, actor, world, login):
    route = ROUTES[name]
    client = login(user_for(world, actor))
    response = request(client, route, world, route.foreign(world), name)
    assert response.status_code == 404, f"{name} as {actor} on another tenant's object"
    assert b"Not found" in response.content  # the portal's own page, the same as for nobody


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_other_methods_answer_405(name, world, login):
    route = ROUTES[name]
    client = login(world.alice)
    for method in ("put", "delete", "patch", "post", "get"):
        if method.upper() in route.allows:
            continue
        url = reverse(name, kwargs=route.kwargs(world))
        response = getattr(client, method)(url)
        assert response.status_code == 405, f"{method.upper()} {name}: {response.status_code}"
        assert b"Method not allowed" in response.content
