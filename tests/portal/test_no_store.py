"""No cache keeps what a signed-in user saw: every page for them, and every CSV export,
says `Cache-Control: no-store` (not only the vault pages)."""

import pytest
from django.urls import reverse

from portal.csv import csv_response
from tests.test_access_matrix import ADMIN, OWNER, PROVIDER_ADMIN, ROUTES, USER, user_for
from tests.test_access_matrix import request as route_request

pytestmark = pytest.mark.django_db

GET_ROUTES = sorted(name for name, route in ROUTES.items() if route.method == "get")


@pytest.mark.parametrize("actor", [OWNER, ADMIN, USER, PROVIDER_ADMIN])
def test_every_page_for_a_signed_in_user_is_no_store(world, login, actor):
    client = login(user_for(world, actor))
    for name in GET_ROUTES:
        route = ROUTES[name]
        response = route_request(client, route, world, route.kwargs(world), name)
        assert "no-store" in response.get("Cache-Control", ""), (name, response.status_code)


@pytest.mark.parametrize(
    "url_name",
    [
        "provider_dashboard",
        "provider_users",
        "provider_billing",
        "provider_events",
        "provider_billing_export",
        "provider_events_export",
    ],
)
def test_provider_pages_and_exports_are_no_store(world, login, url_name):
    response = login(world.provider_admin).get(reverse(url_name, args=[world.provider.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_org_and_account_pages_are_no_store(world, login):
    client = login(world.alice)
    for url in (
        reverse("org_overview", args=[world.org.pk]),
        reverse("org_members", args=[world.org.pk]),
        reverse("password_change"),
        reverse("two_step"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


def test_an_export_is_no_store_whoever_asks():
    response = csv_response("seats.csv", ["client"], [["Acme"]])
    assert "no-store" in response["Cache-Control"]


def test_the_header_follows_the_signed_in_user(world, client, login):
    assert "no-store" not in client.get(reverse("healthz")).get("Cache-Control", "")
    signed_in = login(world.alice).get(reverse("healthz"))
    assert "no-store" in signed_in["Cache-Control"]
