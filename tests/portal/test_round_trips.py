"""Round trips per page: one query resolves an actor, the item page reads what it shows in
as few queries as the data allows, and the counts stay pinned whatever the data's size.

The test settings keep sessions in the database (one query per request that production
answers from Redis), so each count here is one more than a production request makes.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import MemberRole
from portal.access import Capability, Relationship, resolve, resolve_provider
from portal.models import Event, EventType
from tests import factories
from tests.vault.conftest import give_keys, make_item
from tests.vault.helpers import vault_url
from vault.bench import seed_items
from vault.crypto import ItemUnreadable, KeyChain, open_item
from vault.models import DataKey, Favorite, OrgKey
from vault.selectors import item_access

pytestmark = pytest.mark.django_db

# Session, user, the org with the actor's ties, the item with its keys and the favourite,
# its collections, the "item viewed" event; a member's collection levels one more.
ITEM_PAGE_QUERIES = {"alice": 6, "bob": 7}
LOGIN_PAGE_QUERIES = 0


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("who", "relationship"),
    [
        ("alice", Relationship.OWNER),
        ("bob", Relationship.USER),
        ("custom", Relationship.CUSTOM),
        ("provider_admin", Relationship.PROVIDER_ADMIN),
        ("service_user", Relationship.SERVICE_USER),
    ],
)
def test_one_query_resolves_an_actor(world, django_assert_num_queries, who, relationship):
    with django_assert_num_queries(1):
        actor = resolve(getattr(world, who), world.org)
        # What the layout and the event log read next costs nothing more.
        assert actor.org is world.org
        assert actor.relationships == {relationship}
        if actor.via_provider:
            assert actor.acting_provider == world.provider
        else:
            assert actor.membership.org is world.org


def test_strangers_cost_one_query_and_scoped_service_users_two(world, django_assert_num_queries):
    """A service user limited to chosen clients: one more query, for the list."""
    provider_user = world.service_user.provider_users.get()
    provider_user.access_all_clients = False
    provider_user.save()
    with django_assert_num_queries(1):
        assert resolve(world.charlie, world.org) is None
    with django_assert_num_queries(2):
        assert resolve(world.service_user, world.org) is None
    provider_user.client_scope.add(world.org)
    with django_assert_num_queries(2):
        assert resolve(world.service_user, world.org).can(Capability.MEMBERS_MANAGE)
    # Another provider's staff reach nothing here.
    assert resolve(world.other_provider_admin, world.org) is None


def test_a_provider_admin_who_is_a_member_gets_both_ties_in_one_query(
    world, django_assert_num_queries
):
    factories.MembershipFactory(org=world.org, user=world.provider_admin, role=MemberRole.USER)
    with django_assert_num_queries(1):
        actor = resolve(world.provider_admin, world.org)
    assert actor.relationships == {Relationship.USER, Relationship.PROVIDER_ADMIN}
    assert actor.vault_membership is actor.membership


@pytest.mark.parametrize("page", ["org_overview", "org_members", "vault_item_list"])
def test_org_pages_resolve_the_actor_in_the_org_query(world, login, page):
    """The decorator's org query brings the ties: no page looks them up again."""
    client = login(world.alice)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse(page, args=[world.org.pk])).status_code == 200
    sql = [query["sql"] for query in captured.captured_queries]
    assert sum("actor_membership" in text for text in sql) == 1
    assert not any(text.startswith('SELECT "providers_provideruser"') for text in sql)


def test_provider_pages_read_the_staff_row_with_the_provider(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        actor = resolve_provider(world.provider_admin, world.provider)
    assert actor.is_admin


@pytest.fixture
def item_world(world):
    give_keys(world.org, world.other_org)
    world.item = make_item(world.alice, world.org, [world.collection])
    return world


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_item_page_queries_are_pinned_and_do_not_grow(item_world, login, who):
    w = item_world
    client = login(getattr(w, who))
    url = vault_url("item_detail", w.org, w.item)
    small = count(client, url)
    seed_items(w.org, [w.collection], 30)
    Favorite.objects.create(user=getattr(w, who), item=w.item)
    extra = factories.CollectionFactory(org=w.org, name="Another")
    w.item.collections.add(extra)
    response = client.get(url)
    assert "Unfavourite" in response.content.decode()  # the favourite, read with the item
    assert small == count(client, url) == ITEM_PAGE_QUERIES[who]


def test_every_item_view_is_an_event(item_world, login):
    w = item_world
    client = login(w.bob)
    url = vault_url("item_detail", w.org, w.item)
    views = Event.objects.filter(type=EventType.ITEM_VIEWED, object_id=str(w.item.pk))
    for expected in (1, 2, 3):
        assert client.get(url).status_code == 200
        assert views.count() == expected


def test_login_page_asks_the_database_nothing(db, client):
    assert count(client, reverse("login")) == LOGIN_PAGE_QUERIES


def test_the_item_page_opens_with_the_keys_read_beside_the_item(item_world):
    """No query of the key chain's own: the data key and org key rows came with the item."""
    from tests.vault.conftest import access_for

    w = item_world
    access = access_for(w.alice, w.org)
    keychain = KeyChain(w.org.pk)
    found = item_access(access=access, item_id=w.item.pk, keychain=keychain, with_favorite=True)
    with CaptureQueriesContext(connection) as captured:
        content = open_item(found.grant, found.item, keychain)
    assert content.name == "Bank login"
    assert captured.captured_queries == []
    assert found.favorite is False


def test_adopted_key_rows_of_another_org_are_ignored(item_world):
    """A row handed over from elsewhere is no shortcut: another org's rows are looked up
    (and refused) exactly as without it."""
    w = item_world
    keychain = KeyChain(w.org.pk)
    foreign_key = DataKey.objects.filter(org=w.other_org).first()
    foreign_org_key = OrgKey.objects.filter(org=w.other_org).first()
    keychain.adopt_rows(data_key=foreign_key, org_key=foreign_org_key)
    with pytest.raises(ItemUnreadable) as refused:
        keychain.data_key(foreign_key.pk)
    assert refused.value.what == "data key (missing)"  # not in this org: never opened


def test_a_tampered_data_key_row_read_with_the_item_is_still_refused(item_world, login):
    """The row arrives by a join now; its tag is checked before use all the same."""
    w = item_world
    DataKey.objects.filter(pk=w.item.data_key_id).update(tag=b"\0" * 32)
    response = login(w.alice).get(vault_url("item_detail", w.org, w.item))
    assert response.status_code == 409
    assert Event.objects.filter(type=EventType.ITEM_DECRYPTION_FAILED).exists()
