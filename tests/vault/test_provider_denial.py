"""Provider staff reach nothing in the vault: 404 on every vault URL, with real ids, and no
decryption ever runs during their requests."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import URLPattern, get_resolver, reverse

from clients.models import MemberRole
from tests import factories
from vault.content import ItemType
from vault.models import Item

from .conftest import make_item
from .helpers import form_post

pytestmark = pytest.mark.django_db


def vault_route_names() -> list[str]:
    resolver = get_resolver()
    names = []
    for pattern in resolver.url_patterns:
        if str(pattern.pattern) == "orgs/<uuid:org_id>/vault/":
            names += [p.name for p in pattern.url_patterns if isinstance(p, URLPattern)]
    assert len(names) >= 12, names
    return names


def vault_url(name: str, org, item) -> str:
    kwargs = {"org_id": org.pk, "item_id": item.pk, "item_type": ItemType.LOGIN}
    pattern = next(p for p in get_resolver().reverse_dict.getlist(name))
    wanted = set(pattern[0][0][1])
    return reverse(name, kwargs={k: v for k, v in kwargs.items() if k in wanted})


@pytest.fixture
def decryption_forbidden():
    """Every decrypting function the vault has, replaced by a mock that must not be called."""
    targets = ["decrypt_field", "open_data_key", "unwrap_org_private_key"]
    patches = {
        name: mock.patch(f"vault.crypto.{name}", side_effect=AssertionError(name))
        for name in targets
    }
    mocks = {name: patch.start() for name, patch in patches.items()}
    yield mocks
    for patch in patches.values():
        patch.stop()


@pytest.fixture
def trashed(vault_world) -> Item:
    item = make_item(vault_world.alice, vault_world.org, [vault_world.collection])
    Item.objects.filter(pk=item.pk).update(deleted_at="2026-01-01T00:00:00Z")
    return item


@pytest.mark.parametrize("who", ["provider_admin", "service_user"])
def test_provider_staff_get_404_on_every_vault_url_and_nothing_is_decrypted(
    vault_world, trashed, login, decryption_forbidden, who
):
    w = vault_world
    client = login(getattr(w, who))
    answered = []
    for name in vault_route_names():
        for item in (w.item, trashed):
            url = vault_url(name, w.org, item)
            data = form_post(
                "login",
                collections=[w.collection],
                name="x",
                password="p",
                field="password",
                favorite="1",
                confirm="1",
                q="Bank",
                revision=1,
            )
            for response in (client.get(url), client.post(url, data)):
                answered.append((name, response.status_code))
                assert response.status_code == 404, (name, response.status_code)
                assert b"Bank login" not in response.content
    for name, mocked in decryption_forbidden.items():
        assert not mocked.called, f"{name} was called during a provider request"
    assert Item.objects.filter(org=w.org).count() == 2  # nothing created, nothing deleted
    assert len(answered) == len(vault_route_names()) * 4


def test_other_providers_and_strangers_get_404_too(vault_world, login, decryption_forbidden):
    w = vault_world
    for user in (w.other_provider_admin, w.charlie):
        client = login(user)
        for name in vault_route_names():
            assert client.get(vault_url(name, w.org, w.item)).status_code == 404
    assert not any(m.called for m in decryption_forbidden.values())


def test_the_same_requests_do_decrypt_for_a_member(vault_world, login, decryption_forbidden):
    """Proves the patch targets are the live decrypting functions."""
    w = vault_world
    with pytest.raises(AssertionError):
        login(w.alice).get(vault_url("vault_item_detail", w.org, w.item))


def test_provider_admin_with_a_membership_sees_only_granted_items(vault_world, login):
    w = vault_world
    factories.MembershipFactory(org=w.org, user=w.provider_admin, role=MemberRole.USER)
    client = login(w.provider_admin)
    listing = client.get(reverse("vault_item_list", args=[w.org.pk]))
    assert listing.status_code == 200 and b"Bank login" not in listing.content
    detail = client.get(reverse("vault_item_detail", args=[w.org.pk, w.item.pk]))
    assert detail.status_code == 404
