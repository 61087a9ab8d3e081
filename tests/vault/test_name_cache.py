"""The encrypted search-name cache: ciphertext only, per member, never trusted past a revision."""

from __future__ import annotations

import logging
import pickle

import pytest
from django.core.cache import cache

from tests import factories
from vault.services import ItemEdit, item_update

from .conftest import access_for, login_content, make_item
from .helpers import vault_url

pytestmark = pytest.mark.django_db


def cache_key(w, user) -> str:
    return f"vault:search-names:{w.org.pk}:{user.pk}"


def search(client, w, term: str) -> bytes:
    response = client.post(vault_url("item_list", w.org), {"q": term})
    assert response.status_code == 200
    return response.content


def test_cache_holds_ciphertext_only(vault_world, login):
    w = vault_world
    search(login(w.alice), w, "bank")
    stored = cache.get(cache_key(w, w.alice))
    assert stored is not None
    assert b"Bank login" not in pickle.dumps(stored)


def test_a_renamed_item_is_opened_again(vault_world, login):
    w = vault_world
    client = login(w.alice)
    assert b"Bank login" in search(client, w, "bank")
    item_update(
        access=access_for(w.alice, w.org),
        item_id=w.item.pk,
        revision=w.item.revision,
        edit=ItemEdit(content=login_content("Credit union")),
    )
    assert b"Credit union" not in search(client, w, "bank")
    assert b"Credit union" in search(client, w, "credit")


def test_new_items_are_found_with_a_warm_cache(vault_world, login):
    w = vault_world
    client = login(w.alice)
    search(client, w, "bank")
    make_item(w.alice, w.org, [w.collection], login_content("Brand new"))
    assert b"Brand new" in search(client, w, "new")


def test_each_member_has_their_own(vault_world, login):
    w = vault_world
    search(login(w.alice), w, "bank")
    assert cache.get(cache_key(w, w.bob)) is None
    assert b"Bank login" in search(login(w.bob), w, "bank")
    assert cache.get(cache_key(w, w.bob)) is not None


def test_a_tampered_cache_is_dropped_not_trusted(vault_world, login, caplog):
    w = vault_world
    client = login(w.alice)
    search(client, w, "bank")
    data_key_id, ciphertext, expires_at = cache.get(cache_key(w, w.alice))
    forged = ciphertext[:-1] + bytes([ciphertext[-1] ^ 1])
    cache.set(cache_key(w, w.alice), (data_key_id, forged, expires_at))
    with caplog.at_level(logging.WARNING):
        assert b"Bank login" in search(client, w, "bank")
    assert "failed to open" in caplog.text


def test_another_members_cache_does_not_open_as_mine(vault_world, login, caplog):
    w = vault_world
    board = factories.CollectionFactory(org=w.org, name="Board")
    make_item(w.alice, w.org, [board], login_content("Board bank"))  # bob has no grant there
    assert b"Board bank" in search(login(w.alice), w, "bank")
    cache.set(cache_key(w, w.bob), cache.get(cache_key(w, w.alice)))
    with caplog.at_level(logging.WARNING, logger="vault"):
        page = search(login(w.bob), w, "bank")
    assert "failed to open" in caplog.text  # bound to alice: dropped, not read
    assert b"Bank login" in page and b"Board bank" not in page  # then rebuilt from bob's own
    assert cache.get(cache_key(w, w.bob)) != cache.get(cache_key(w, w.alice))
