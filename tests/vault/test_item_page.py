"""The item page: secrets masked, each reveal its own audited request, copy, TOTP, errors."""

from __future__ import annotations

import logging
import re
import time

import pytest

from clients.models import AccessLevel
from portal.models import Event, EventType
from tests import factories
from vault.content import CustomField, ItemContent, ItemType
from vault.crypto import BODY_FIELD, NAME_FIELD, KeyChain
from vault.keys import encrypt_field
from vault.models import Item
from vault.totp import parse_totp_secret, totp_code

from . import conftest
from .conftest import make_item
from .helpers import vault_url

pytestmark = pytest.mark.django_db

PASSWORD = conftest.PASSWORD.encode()
TOTP_KEY = conftest.TOTP_SECRET.encode()
PIN = conftest.HIDDEN_PIN.encode()


def events(event_type) -> list[Event]:
    return list(Event.objects.filter(type=event_type))


def test_item_page_masks_every_secret_and_records_a_view(vault_world, login):
    w = vault_world
    response = login(w.alice).get(vault_url("item_detail", w.org, w.item))
    assert response.status_code == 200
    assert b"Bank login" in response.content and b"alice" in response.content
    for secret in (PASSWORD, TOTP_KEY, PIN):
        assert secret not in response.content
    assert b'id="totp-code"' in response.content  # the current code, with its countdown
    assert "no-store" in response["Cache-Control"]
    [viewed] = events(EventType.ITEM_VIEWED)
    assert viewed.object_id == str(w.item.pk) and viewed.actor == w.alice


@pytest.mark.parametrize(
    ("target", "secret", "event_type"),
    [
        ("password", PASSWORD, EventType.ITEM_PASSWORD_REVEALED),
        ("totp", TOTP_KEY, EventType.ITEM_TOTP_REVEALED),
        ("custom:c1", PIN, EventType.ITEM_HIDDEN_FIELD_REVEALED),
    ],
)
def test_each_reveal_is_a_request_that_shows_one_secret(
    vault_world, login, target, secret, event_type
):
    w = vault_world
    response = login(w.alice).post(vault_url("item_detail", w.org, w.item), {"field": target})
    assert response.status_code == 200
    assert secret in response.content
    others = {PASSWORD, TOTP_KEY, PIN} - {secret}
    assert not any(other in response.content for other in others)
    assert "no-store" in response["Cache-Control"]
    [event] = [e for e in events(event_type) if e.details == {"field": target.split(":")[0]}]
    assert event.object_id == str(w.item.pk) and event.actor == w.alice


def test_card_code_reveal(vault_world, login):
    w = vault_world
    card = make_item(
        w.alice,
        w.org,
        [w.collection],
        ItemContent(type=ItemType.CARD, name="Card", fields={"number": "4111", "code": "c0de-987"}),
    )
    client = login(w.alice)
    assert b"c0de-987" not in client.get(vault_url("item_detail", w.org, card)).content
    response = client.post(vault_url("item_detail", w.org, card), {"field": "code"})
    assert b"c0de-987" in response.content
    [event] = events(EventType.ITEM_CARD_CODE_REVEALED)
    assert event.object_id == str(card.pk) and event.details == {"field": "code"}


CARD_NUMBER = "4111 1111 1111 1111"


def card_item(w):
    content = ItemContent(
        type=ItemType.CARD, name="Card", fields={"number": CARD_NUMBER, "code": "c0de-987"}
    )
    return make_item(w.alice, w.org, [w.collection], content)


def test_the_card_number_is_masked_with_its_own_reveal(vault_world, login):
    w = vault_world
    card = card_item(w)
    client = login(w.alice)
    page = client.get(vault_url("item_detail", w.org, card)).content.decode()
    assert CARD_NUMBER not in page
    assert page.count('name="field" value="number"') == 1  # its own Reveal button
    response = client.post(vault_url("item_detail", w.org, card), {"field": "number"})
    content = response.content.decode()
    assert CARD_NUMBER in content and "c0de-987" not in content  # one value at a time
    [event] = events(EventType.ITEM_CARD_NUMBER_REVEALED)
    assert event.object_id == str(card.pk) and event.details == {"field": "number"}


def test_except_passwords_may_reveal_the_card_number_but_not_its_code(vault_world, login):
    """The number is masked for the eye, not password-class (Bitwarden's rule)."""
    w = vault_world
    card = card_item(w)
    w.bob.memberships.get().collection_grants.update(level=AccessLevel.VIEW_EXCEPT_PASSWORDS)
    client = login(w.bob)
    assert CARD_NUMBER not in client.get(vault_url("item_detail", w.org, card)).content.decode()
    number = client.post(vault_url("item_detail", w.org, card), {"field": "number"})
    assert CARD_NUMBER in number.content.decode()
    code = client.post(vault_url("item_detail", w.org, card), {"field": "code"})
    assert code.status_code == 400 and b"c0de-987" not in code.content


def test_reveal_answers_at_the_items_own_address(vault_world, login):
    """The reveal form posts to the item page itself, so the address bar keeps the item's
    URL; the value is in that response only, never in the session."""
    w = vault_world
    client = login(w.alice)
    url = vault_url("item_detail", w.org, w.item)
    page = client.get(url).content.decode()
    assert f'<form method="post" action="{url}" class="inline reveal">' in page
    assert "/reveal/" not in page
    response = client.post(url, {"field": "password"})
    assert response.status_code == 200 and PASSWORD in response.content
    assert response.wsgi_request.path == url
    session = client.session
    assert all(PASSWORD.decode() not in str(value) for value in session.values())
    # A reload (GET) shows the page masked again.
    assert PASSWORD not in client.get(url).content
    assert len(events(EventType.ITEM_PASSWORD_REVEALED)) == 1


def test_password_history_entries_reveal_one_at_a_time(vault_world, login):
    from vault.services import ItemEdit, item_update

    from .conftest import access_for, login_content

    w = vault_world
    item_update(
        access=access_for(w.alice, w.org),
        item_id=w.item.pk,
        revision=w.item.revision,
        edit=ItemEdit(content=login_content(password="n3w-Pa55")),
    )
    client = login(w.alice)
    page = client.get(vault_url("item_detail", w.org, w.item))
    assert b"Password history" in page.content and PASSWORD not in page.content
    response = client.post(vault_url("item_detail", w.org, w.item), {"field": "history:0"})
    assert PASSWORD in response.content


@pytest.mark.parametrize(
    "target",
    # "²" and "٣" are digits to str.isdigit(); int() refuses the first one.
    ["nope", "history:²", "history:٣", "history:9", "history:-1", "custom:", "custom:c2", ""],
)
def test_unknown_reveal_target_is_a_clear_400(vault_world, login, target):
    w = vault_world
    response = login(w.alice).post(vault_url("item_detail", w.org, w.item), {"field": target})
    assert response.status_code == 400
    assert b"no such secret" in response.content
    shown = [EventType.ITEM_PASSWORD_REVEALED, EventType.ITEM_HIDDEN_FIELD_REVEALED]
    assert not Event.objects.filter(type__in=shown).exists()


def test_copy_password_answers_json_and_records_it(vault_world, login):
    w = vault_world
    response = login(w.alice).post(vault_url("item_copy", w.org, w.item))
    assert response.status_code == 200
    assert response.json() == {"value": "s3cret-Pa55"}
    assert "no-store" in response["Cache-Control"]
    [copied] = events(EventType.ITEM_PASSWORD_COPIED)
    assert copied.object_id == str(w.item.pk) and copied.actor == w.alice


def test_totp_refresh_answers_the_current_code(vault_world, login):
    w = vault_world
    response = login(w.alice).post(vault_url("item_totp", w.org, w.item))
    data = response.json()
    assert data["code"] in codes_around_now(conftest.TOTP_SECRET) and 0 < data["remaining"] <= 30
    assert "no-store" in response["Cache-Control"]
    # A code is part of viewing the item: no "TOTP revealed" for each one the countdown shows.
    assert not events(EventType.ITEM_TOTP_REVEALED)


def codes_around_now(secret: str) -> set[str]:
    """The codes of the current period and its neighbours (a test may cross a boundary)."""
    parameters = parse_totp_secret(secret)
    now = time.time()
    return {totp_code(parameters, at=now + offset).code for offset in (-30, 0, 30)}


def test_a_code_shown_on_the_item_page_is_audited_as_one_view(vault_world, login):
    """Opening a login with a TOTP key records one "item viewed", however many codes the
    countdown then shows; "TOTP revealed" is for revealing the key itself."""
    w = vault_world
    client = login(w.alice)
    page = client.get(vault_url("item_detail", w.org, w.item))
    code = re.search(rb'id="totp-code">(\d{6})<', page.content).group(1).decode()
    assert code in codes_around_now(conftest.TOTP_SECRET)
    for _ in range(3):
        assert client.post(vault_url("item_totp", w.org, w.item)).status_code == 200
    [viewed] = events(EventType.ITEM_VIEWED)
    assert viewed.object_id == str(w.item.pk) and viewed.actor == w.alice
    assert not events(EventType.ITEM_TOTP_REVEALED)
    client.post(vault_url("item_detail", w.org, w.item), {"field": "totp"})
    [revealed] = events(EventType.ITEM_TOTP_REVEALED)
    assert revealed.details == {"field": "totp"} and TOTP_KEY not in page.content


def test_no_code_shown_no_totp_event(vault_world, login):
    w = vault_world
    note = make_item(
        w.alice, w.org, [w.collection], ItemContent(type=ItemType.SECURE_NOTE, name="N")
    )
    assert login(w.alice).get(vault_url("item_detail", w.org, note)).status_code == 200
    assert not events(EventType.ITEM_TOTP_REVEALED)


@pytest.fixture
def except_passwords(vault_world):
    """bob's grant on the shared collection becomes "can view, except passwords"."""
    w = vault_world
    w.bob.memberships.get().collection_grants.update(level=AccessLevel.VIEW_EXCEPT_PASSWORDS)
    return w


def test_except_passwords_never_sends_secrets(except_passwords, login):
    w = except_passwords
    client = login(w.bob)
    page = client.get(vault_url("item_detail", w.org, w.item))
    assert page.status_code == 200 and b"alice" in page.content
    assert b'id="totp-code"' not in page.content  # no code either: it is derived from the key
    responses = [
        page,
        client.post(vault_url("item_detail", w.org, w.item), {"field": "password"}),
        client.post(vault_url("item_detail", w.org, w.item), {"field": "custom:c1"}),
        client.post(vault_url("item_detail", w.org, w.item), {"field": "totp_code"}),
        client.post(vault_url("item_copy", w.org, w.item)),
        client.post(vault_url("item_totp", w.org, w.item)),
        client.get(vault_url("item_edit", w.org, w.item)),
    ]
    for response in responses:
        for secret in (PASSWORD, TOTP_KEY, PIN):
            assert secret not in response.content
    assert [r.status_code for r in responses[1:]] == [400, 400, 400, 403, 403, 403]
    assert not Event.objects.filter(type__in=REVEAL_EVENTS).exists()


REVEAL_EVENTS = [
    EventType.ITEM_PASSWORD_REVEALED,
    EventType.ITEM_HIDDEN_FIELD_REVEALED,
    EventType.ITEM_CARD_CODE_REVEALED,
    EventType.ITEM_TOTP_REVEALED,
    EventType.ITEM_PASSWORD_COPIED,
]


@pytest.fixture
def reprompted(vault_world):
    Item.objects.filter(pk=vault_world.item.pk).update(reprompt=True)
    return vault_world


def test_reprompt_asks_for_the_account_password_before_any_secret(reprompted, login):
    w = reprompted
    client = login(w.alice)
    page = client.get(vault_url("item_detail", w.org, w.item))
    assert b'id="totp-code"' not in page.content and b"account_password" in page.content
    wrong = client.post(
        vault_url("item_detail", w.org, w.item), {"field": "password", "account_password": "guess"}
    )
    assert wrong.status_code == 403 and PASSWORD not in wrong.content
    right = client.post(
        vault_url("item_detail", w.org, w.item),
        {"field": "password", "account_password": factories.TEST_PASSWORD},
    )
    assert right.status_code == 200 and PASSWORD in right.content
    assert not events(EventType.ITEM_TOTP_REVEALED)  # no code was sent yet
    code = client.post(
        vault_url("item_detail", w.org, w.item),
        {"field": "totp_code", "account_password": factories.TEST_PASSWORD},
    )
    assert b'id="totp-code"' in code.content
    assert not events(EventType.ITEM_TOTP_REVEALED)  # a code, not the key
    assert client.post(vault_url("item_copy", w.org, w.item)).status_code == 403
    assert client.post(vault_url("item_totp", w.org, w.item)).status_code == 403


def test_javascript_uri_is_shown_as_text_never_as_a_link(vault_world, login):
    from vault.content import LoginUri

    w = vault_world
    content = ItemContent(
        type=ItemType.LOGIN, name="Sneaky", uris=(LoginUri("javascript:alert(1)"),)
    )
    item = make_item(w.alice, w.org, [w.collection], content)
    html = login(w.alice).get(vault_url("item_detail", w.org, item)).content.decode()
    assert "javascript:alert(1)" in html
    assert 'href="javascript:' not in html.replace("&#x27;", "'")


def test_members_without_a_grant_get_404_and_lower_levels_no_edit_button(vault_world, login):
    w = vault_world
    assert login(w.custom).get(vault_url("item_detail", w.org, w.item)).status_code == 404
    page = login(w.bob).get(vault_url("item_detail", w.org, w.item))
    assert page.status_code == 200
    assert vault_url("item_edit", w.org, w.item).encode() not in page.content


def test_items_of_another_org_are_404_even_with_the_right_org_id(vault_world, login):
    w = vault_world
    client = login(w.alice)
    assert client.get(vault_url("item_detail", w.org, w.other_item)).status_code == 404
    response = client.post(vault_url("item_detail", w.org, w.other_item), {"field": "password"})
    assert response.status_code == 404


@pytest.mark.parametrize("source", ["another item", "another org"])
def test_tampered_item_shows_a_generic_page_and_records_an_event(
    vault_world, login, caplog, source
):
    w = vault_world
    victim = make_item(w.alice, w.org, [w.collection])
    donor = w.item if source == "another item" else w.other_item
    Item.objects.filter(pk=victim.pk).update(
        name_ciphertext=donor.name_ciphertext, data_ciphertext=donor.data_ciphertext
    )
    with caplog.at_level(logging.ERROR, logger="vault"):
        response = login(w.alice).get(vault_url("item_detail", w.org, victim))
    # Our own page, 409 Conflict (see vault.views.UNREADABLE_STATUS): never a 500.
    assert response.status_code == 409
    assert b"This item cannot be opened" in response.content
    assert str(victim.pk).encode() in response.content
    assert b"Traceback" not in response.content and PASSWORD not in response.content
    assert b"Bank login" not in response.content
    assert "no-store" in response["Cache-Control"]
    [event] = events(EventType.ITEM_DECRYPTION_FAILED)
    assert event.object_id == str(victim.pk) and event.actor == w.alice
    assert not events(EventType.ITEM_VIEWED)
    assert f"item={victim.pk}" in caplog.text and "bank" not in caplog.text.lower()


def seal_raw(item, *, name: bytes, body: bytes) -> None:
    """Store well-encrypted bytes that are not a valid item (a bug, or a bad import)."""
    data_key = KeyChain(item.org_id).data_key(item.data_key_id)
    where = {"data_key": data_key, "org_id": item.org_id, "item_id": item.pk}
    Item.objects.filter(pk=item.pk).update(
        name_ciphertext=encrypt_field(name, field=NAME_FIELD, **where),
        data_ciphertext=encrypt_field(body, field=BODY_FIELD, **where),
    )


@pytest.mark.parametrize(
    ("name", "body"),
    [(b"Fine", b"{not json"), (b"Fine", b'{"v": 1}'), (b"\xff\xfe", b'{"uris": []}')],
    ids=["body not JSON", "body without uris", "name not UTF-8"],
)
def test_malformed_item_is_logged_recorded_and_answered_409(vault_world, login, caplog, name, body):
    w = vault_world
    seal_raw(w.item, name=name, body=body)
    client = login(w.alice)
    with caplog.at_level(logging.ERROR, logger="vault"):
        responses = [
            client.get(vault_url("item_detail", w.org, w.item)),
            client.post(vault_url("item_detail", w.org, w.item), {"field": "password"}),
            client.post(vault_url("item_copy", w.org, w.item)),
            client.get(vault_url("item_edit", w.org, w.item)),
        ]
    assert [r.status_code for r in responses] == [409] * 4
    failures = events(EventType.ITEM_DECRYPTION_FAILED)
    assert len(failures) == 4 and {e.object_id for e in failures} == {str(w.item.pk)}
    assert caplog.text.count(f"item={w.item.pk}") >= 4
    assert not events(EventType.ITEM_VIEWED) and not events(EventType.ITEM_PASSWORD_COPIED)


def test_tampered_name_marks_the_list_row_and_is_recorded(vault_world, login):
    w = vault_world
    victim = make_item(w.alice, w.org, [w.collection])
    Item.objects.filter(pk=victim.pk).update(name_ciphertext=w.item.name_ciphertext)
    response = login(w.alice).get(vault_url("item_list", w.org))
    assert response.status_code == 200
    assert f"Unreadable item {victim.pk}".encode() in response.content
    assert len(events(EventType.ITEM_DECRYPTION_FAILED)) == 1


def test_hidden_custom_fields_need_the_reveal(vault_world, login):
    w = vault_world
    content = ItemContent(
        type=ItemType.SECURE_NOTE,
        name="Note",
        notes="plain notes",
        custom_fields=(
            CustomField("h", "Recovery", "hidden", "r3c0very"),
            CustomField("b", "Enabled", "boolean", "true"),
        ),
    )
    item = make_item(w.alice, w.org, [w.collection], content)
    page = login(w.alice).get(vault_url("item_detail", w.org, item))
    assert b"r3c0very" not in page.content and b"plain notes" in page.content
    assert b"Yes" in page.content


def test_failed_reprompts_lock_like_failed_logins(reprompted, login, settings):
    w = reprompted
    client = login(w.alice)
    url = vault_url("item_detail", w.org, w.item)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"field": "password", "account_password": "guess"})
    locked = client.post(url, {"field": "password", "account_password": factories.TEST_PASSWORD})
    assert PASSWORD not in locked.content
    assert locked.status_code in (403, 429)
    # The same lock holds on the login page.
    client.logout()
    response = client.post(
        "/accounts/login/", {"username": w.alice.email, "password": factories.TEST_PASSWORD}
    )
    assert response.status_code == 429
