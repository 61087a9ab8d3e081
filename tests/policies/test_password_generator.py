"""Password generator: settings, the rules it generates to, and the vault's generator."""

import re

import pytest

from policies.models import Policy, PolicyType
from policies.types import REGISTRY
from policies.types.password_generator import SPECIALS, generate, strictest
from portal.models import Event, EventType
from tests.policies.helpers import edit_url
from tests.vault.conftest import give_keys
from tests.vault.helpers import form_post, vault_url

pytestmark = pytest.mark.django_db

KEY = PolicyType.PASSWORD_GENERATOR
DEFAULTS = REGISTRY[KEY].default_settings()


def form_data(**overrides):
    data = {**DEFAULTS, **overrides}
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False} | {
        "enabled": "on"
    }


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"length": 4}, b"greater than or equal to 5"),
        ({"length": 129}, b"less than or equal to 128"),
        ({"length": 6, "min_digits": 4, "min_special": 4}, b"must fit the minimum"),
        ({"word_count": 2}, b"greater than or equal to 3"),
        (
            {"use_upper": False, "use_lower": False, "use_digits": False, "use_special": False},
            b"Choose at least one kind of character",
        ),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(world, login, overrides, message):
    page = login(world.alice).post(edit_url(world.org, KEY), form_data(**overrides))
    assert page.status_code == 200 and message in page.content
    assert not Policy.objects.exists()
    assert not Event.objects.filter(type=EventType.POLICY_UPDATED).exists()


def test_passwords_follow_the_rules():
    rules = {**DEFAULTS, "length": 24, "use_special": True, "min_digits": 5, "min_special": 4}
    for _ in range(50):
        password = generate(rules)
        assert len(password) == 24
        assert sum(ch.isdigit() for ch in password) >= 5
        assert sum(ch in SPECIALS for ch in password) >= 4
        assert re.search("[A-Z]", password) and re.search("[a-z]", password)
    lower_only = {**DEFAULTS, "use_upper": False, "use_digits": False, "min_digits": 0}
    assert generate(lower_only).islower()


def test_passphrases_follow_the_rules():
    rules = {
        **DEFAULTS,
        "kind": "passphrase",
        "word_count": 5,
        "capitalize": True,
        "include_number": True,
    }
    for _ in range(20):
        words = generate(rules).split("-")
        assert len(words) == 5 and all(w[0].isupper() for w in words)
        assert any(ch.isdigit() for ch in "".join(words))


def test_several_policies_bind_by_the_strictest():
    merged = strictest(
        [
            {**DEFAULTS, "length": 20, "kind": "passphrase"},
            {**DEFAULTS, "length": 30, "use_special": True, "kind": "password"},
        ]
    )
    assert merged["length"] == 30 and merged["use_special"] and merged["kind"] == "password"


def _generate_in_vault(client, world):
    return client.post(
        vault_url("item_new", world.org, item_type="login"),
        {**form_post("login", collections=[world.collection], name="x"), "generate": "1"},
    )


def test_the_vaults_generate_button_follows_the_policy(world, login):
    give_keys(world.org)
    settings = {**DEFAULTS, "length": 40, "use_special": True, "min_special": 6}
    Policy.objects.create(org=world.org, type=KEY, enabled=True, settings=settings)
    client = login(world.alice)
    page = client.get(vault_url("item_new", world.org, item_type="login"))
    assert b"data-generate-for" not in page.content  # the browser's generator steps aside
    generated = _generate_in_vault(client, world)
    password = generated.context["form"].data["password"]
    assert len(password) == 40 and sum(ch in SPECIALS for ch in password) >= 6


def test_without_the_policy_the_vault_keeps_its_own_generator(world, login):
    give_keys(world.org)
    Policy.objects.create(org=world.other_org, type=KEY, enabled=True, settings=DEFAULTS)
    client = login(world.alice)
    page = client.get(vault_url("item_new", world.org, item_type="login"))
    assert b"data-generate-for" in page.content
    assert len(_generate_in_vault(client, world).context["form"].data["password"]) == 20


def test_the_generator_follows_the_strictest_policy_of_the_members_orgs(world, login):
    """Alice owns world.org (generator: length 16) and is a user of a second org whose
    policy asks for 36 characters and specials: world.org's vault obeys both."""
    from clients.models import MemberRole
    from tests import factories

    give_keys(world.org)
    Policy.objects.create(
        org=world.org, type=KEY, enabled=True, settings={**DEFAULTS, "length": 16}
    )
    stricter = factories.OrganizationFactory(name="Stricter Co")
    factories.MembershipFactory(org=stricter, user=world.alice, role=MemberRole.USER)
    Policy.objects.create(
        org=stricter,
        type=KEY,
        enabled=True,
        settings={**DEFAULTS, "length": 36, "use_special": True, "min_special": 3},
    )
    password = _generate_in_vault(login(world.alice), world).context["form"].data["password"]
    assert len(password) == 36 and sum(ch in SPECIALS for ch in password) >= 3


def test_a_policy_of_another_of_the_members_orgs_binds_a_vault_without_one(world, login):
    from clients.models import MemberRole
    from tests import factories

    give_keys(world.org)
    elsewhere = factories.OrganizationFactory(name="Elsewhere Co")
    factories.MembershipFactory(org=elsewhere, user=world.alice, role=MemberRole.USER)
    Policy.objects.create(
        org=elsewhere, type=KEY, enabled=True, settings={**DEFAULTS, "length": 44}
    )
    client = login(world.alice)
    page = client.get(vault_url("item_new", world.org, item_type="login"))
    assert b"data-generate-for" not in page.content  # generated on the server, to the rules
    assert len(_generate_in_vault(client, world).context["form"].data["password"]) == 44
    # A revoked membership binds nothing.
    elsewhere.memberships.filter(user=world.alice).update(status="revoked")
    page = client.get(vault_url("item_new", world.org, item_type="login"))
    assert b"data-generate-for" in page.content


# The query of the policies that bind a member in all their orgs (`binding_settings`).
BINDING = '"org__policies__settings"'


def test_pages_that_show_items_do_not_read_the_members_generator_policies(world, login):
    """Only forms generate: the list and an item's page ask nothing of the policies that
    bind the member in their other orgs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clients.models import MemberRole
    from tests import factories
    from tests.vault.conftest import make_item

    give_keys(world.org)
    item = make_item(world.alice, world.org, [world.collection])
    elsewhere = factories.OrganizationFactory(name="Elsewhere Co")
    factories.MembershipFactory(org=elsewhere, user=world.alice, role=MemberRole.USER)
    Policy.objects.create(org=elsewhere, type=KEY, enabled=True, settings=DEFAULTS)
    client = login(world.alice)
    for url in (vault_url("item_list", world.org), vault_url("item_detail", world.org, item)):
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        assert not any(BINDING in q["sql"] for q in captured.captured_queries), url
    with CaptureQueriesContext(connection) as captured:  # a form does
        client.get(vault_url("item_new", world.org, item_type="login"))
    assert any(BINDING in q["sql"] for q in captured.captured_queries)
