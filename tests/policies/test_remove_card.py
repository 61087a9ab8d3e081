"""Remove card item type: cards cannot be created, and existing cards are hidden."""

import pytest

from policies.models import Policy, PolicyType
from tests.vault.conftest import access_for, give_keys, make_item
from tests.vault.helpers import form_post, vault_url
from vault.content import ItemContent, ItemType
from vault.models import Item
from vault.services import VaultError, item_create

pytestmark = pytest.mark.django_db

KEY = PolicyType.REMOVE_CARD_ITEM_TYPE
CARD = ItemContent(type=ItemType.CARD, name="Company card", fields={"number": "4111"})


@pytest.fixture
def cards(world):
    give_keys(world.org, world.other_org)
    world.card = make_item(world.alice, world.org, [world.collection], content=CARD)
    world.login_item = make_item(world.alice, world.org, [world.collection])
    world.other_card = make_item(world.charlie, world.other_org, [world.other_collection], CARD)
    return world


def policy_on(org):
    return Policy.objects.create(org=org, type=KEY, enabled=True)


def test_existing_cards_are_hidden_from_the_list_and_their_pages(cards, login):
    policy_on(cards.org)
    client = login(cards.bob)
    listed = client.get(vault_url("item_list", cards.org))
    assert vault_url("item_detail", cards.org, cards.login_item).encode() in listed.content
    assert str(cards.card.pk).encode() not in listed.content
    assert client.get(vault_url("item_detail", cards.org, cards.card)).status_code == 404
    assert client.get(vault_url("item_edit", cards.org, cards.card)).status_code == 404
    owner = login(cards.alice)  # owners too
    assert owner.get(vault_url("item_detail", cards.org, cards.card)).status_code == 404


def test_cards_cannot_be_created(cards, login):
    policy_on(cards.org)
    client = login(cards.alice)
    chooser = client.get(vault_url("item_type_choose", cards.org))
    assert ("card", "Card") not in chooser.context["item_types"]
    assert client.get(vault_url("item_new", cards.org, item_type="card")).status_code == 404
    posted = client.post(
        vault_url("item_new", cards.org, item_type="card"),
        form_post("card", collections=[cards.collection], name="New card", number="4111"),
    )
    assert posted.status_code == 404
    with pytest.raises(VaultError, match="removes this item type"):
        item_create(
            access=access_for(cards.alice, cards.org),
            content=CARD,
            collection_ids=[cards.collection.pk],
        )
    assert Item.objects.filter(org=cards.org, type=ItemType.CARD).count() == 1


def test_switching_it_off_shows_them_again_and_other_orgs_are_untouched(cards, login):
    policy = policy_on(cards.org)
    policy_on(cards.other_org)
    Policy.objects.filter(pk=policy.pk).update(enabled=False)
    client = login(cards.bob)
    assert client.get(vault_url("item_detail", cards.org, cards.card)).status_code == 200
    assert access_for(cards.alice, cards.org).hidden_item_types == frozenset()
    assert access_for(cards.charlie, cards.other_org).hidden_item_types == {"card"}


def test_the_export_leaves_hidden_cards_out(cards):
    from vault.selectors import items_reachable

    policy_on(cards.org)
    reachable = set(
        items_reachable(access_for(cards.alice, cards.org)).values_list("pk", flat=True)
    )
    assert reachable == {cards.login_item.pk}


def test_the_policy_costs_the_list_no_query(cards, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(cards.bob)
    url = vault_url("item_list", cards.org)
    client.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    without = queries()
    policy_on(cards.other_org)  # another org's policy costs this org nothing
    assert queries() == without
    policy_on(cards.org)  # its own: the org query says which types it hides
    assert queries() == without
    assert b"Company card" not in client.get(url).content


def test_an_import_skips_cards_and_says_why(world):
    """Imports do not bring cards in (hidden) while the policy is on: each is a skipped row."""
    from tests.vault.imports.conftest import as_json, bitwarden_org_export, run_import

    give_keys(world.org)
    policy_on(world.org)
    export = bitwarden_org_export()
    cards = sum(1 for item in export["items"] if item["type"] == 3)
    assert cards >= 1
    job = run_import(world.alice, world.org, as_json(export), collection=world.collection)
    assert job.status == "succeeded"
    assert "card" not in job.counts
    assert job.imported_total == len(export["items"]) - cards
    assert not Item.objects.filter(org=world.org, type=ItemType.CARD).exists()
    reasons = [error["reason"] for error in job.row_errors]
    assert (
        reasons.count(
            "Not imported: this organization's “Remove card item type” policy is on. Skipped."
        )
        == cards
    )


def test_without_the_policy_an_import_brings_cards(world):
    from tests.vault.imports.conftest import as_json, bitwarden_org_export, run_import

    give_keys(world.org)
    job = run_import(
        world.alice, world.org, as_json(bitwarden_org_export()), collection=world.collection
    )
    assert job.counts.get("card", 0) >= 1 and not job.row_errors
