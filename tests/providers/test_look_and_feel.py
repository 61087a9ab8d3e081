"""The one-admin banner can be dismissed for the session, without JavaScript."""

import pytest
from django.urls import reverse

from tests import factories

from .helpers import provider_url

pytestmark = pytest.mark.django_db

BANNER = b"has only one confirmed provider admin"


def dismiss_url(provider):
    return reverse("provider_banner_dismiss", args=[provider.pk])


def test_the_banner_is_dismissed_for_the_session_and_back_after_signing_in(world, login):
    client = login(world.provider_admin)
    users_page = provider_url("provider_users", world.provider)
    page = client.get(users_page).content
    assert BANNER in page
    assert f'action="{dismiss_url(world.provider)}"'.encode() in page  # a plain POST form
    response = client.post(dismiss_url(world.provider), {"next": users_page})
    assert response.status_code == 302 and response["Location"] == users_page
    for name in ("provider_dashboard", "provider_users", "provider_billing"):
        assert BANNER not in client.get(provider_url(name, world.provider)).content, name
    # A new session shows it again: the rule still holds.
    assert BANNER in login(world.provider_admin).get(users_page).content


def test_dismissing_one_providers_banner_leaves_the_others(world, login):
    second = factories.ProviderFactory(name="Second MSP")
    factories.ProviderUserFactory(provider=second, user=world.provider_admin)
    client = login(world.provider_admin)
    client.post(dismiss_url(world.provider))
    assert BANNER not in client.get(provider_url("provider_dashboard", world.provider)).content
    assert BANNER in client.get(provider_url("provider_dashboard", second)).content


def test_dismiss_never_redirects_off_site_and_needs_post(world, login):
    client = login(world.provider_admin)
    response = client.post(dismiss_url(world.provider), {"next": "https://evil.example/"})
    assert response["Location"] == provider_url("provider_dashboard", world.provider)
    assert client.get(dismiss_url(world.provider)).status_code == 405
    assert login(world.charlie).post(dismiss_url(world.provider)).status_code == 404
    assert login(world.provider_admin).post(dismiss_url(world.other_provider)).status_code == 404
