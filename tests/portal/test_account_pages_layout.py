"""The account pages keep the portal's navigation: a sidebar with the way back."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["password_change", "password_change_done", "two_step"])
def test_account_pages_have_the_sidebar(world, login, name):
    response = login(world.alice).get(reverse(name))
    assert response.status_code == 200
    content = response.content.decode()
    assert '<nav class="sidebar" aria-label="Account">' in content
    assert f'href="{reverse("home")}">Your organizations and providers</a>' in content
    current = "password_change" if name.startswith("password") else "two_step"
    assert f'href="{reverse(current)}" aria-current="page"' in content
