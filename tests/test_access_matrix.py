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
ACTORS = [ANON, STRANGER, OWNER, ADMIN, USER, CUSTOM, PROVIDER_ADMIN, SERVICE_USER, OTHER_PROVIDER_ADMIN]
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


ROUTES: dict[str, Route] = {
    "home": Route(
        # Every actor of the world reaches exactly one place, so home redirects there.
        expect=signed_in(302),
    ),
    "healthz": Route(expect=everyone(200), allows=("GET", "HEAD")),
    "login": Route(expect={**signed_in(302), ANON: 200}, allows=("GET", "POST")),
    "logout": Route(method="post", expect=everyone(302), allows=("POST", "OPTIONS")),
    "password_change": Route(expect=signed_in(200), allows=("GET", "POST")),
    "password_change_done": Route(expect=signed_in(200)),
    "password_reset_confirm": Route(
        kwargs=lambda world: {"uidb64": "MQ", "token": "bad-token"},
        expect=everyone(200),  # the "link cannot be used" page
        allows=("GET", "POST"),
    ),
    "password_reset_complete": Route(expect=everyone(200)),
    "invitation_accept": Route(
        kwargs=lambda world: {"token": "no-such-invitation-token"},
        expect=everyone(404),
        allows=("GET", "POST"),
    ),
    "provider_dashboard": Route(
        kwargs=lambda world: {"provider_id": world.provider.pk},
        expect=provider_page(),
        foreign=lambda world: {"provider_id": world.other_provider.pk},
    ),
    "org_overview": Route(kwargs=org_kwargs, expect=org_page(), foreign=other_org_kwargs),
    "org_members": Route(
        kwargs=org_kwargs, expect=org_page(**{USER: 403}), foreign=other_org_kwargs
    ),
    "org_groups": Route(
        kwargs=org_kwargs, expect=org_page(**{USER: 403, CUSTOM: 403}), foreign=other_org_kwargs
    ),
    "org_collections": Route(
        kwargs=org_kwargs, expect=org_page(**{USER: 403, CUSTOM: 403}), foreign=other_org_kwargs
    ),
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
