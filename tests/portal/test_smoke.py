import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_dashboard_lists_clients(world, login):
    response = login(world.provider_admin).get(
        reverse("provider_dashboard", args=[world.provider.pk])
    )
    assert response.status_code == 200
    assert b"Alice Co" in response.content
    assert b"Other Co" not in response.content
