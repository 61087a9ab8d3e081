""" "Except passwords" levels never receive a password-class secret, of any item type, from
any vault page or JSON endpoint: not masked, not in a form, not as a derived TOTP code."""

from __future__ import annotations

import pytest

from clients.models import AccessLevel
from portal.models import Event, EventType
from vault.content import CustomField, ItemContent, ItemType, LoginUri
from vault.services import ItemEdit, item_update

from .conftest import access_for, make_item
from .helpers import vault_url

pytestmark = pytest.mark.django_db

# Letters that are no hex digit: never part of a UUID, and fits a card code (10 characters).
MARK = "ZQXJWV"
PLAIN = "plainvalue"

SECRET_ITEMS = {
    ItemType.LOGIN: ItemContent(
        type=ItemType.LOGIN,
        name="Login",
        fields={"username": PLAIN, "password": f"pw-{MARK}", "totp": f"{MARK}JBSWY3DPEH"},
        uris=(LoginUri("https://plain.example/"),),
    ),
    ItemType.CARD: ItemContent(
        type=ItemType.CARD,
        name="Card",
        fields={"cardholder_name": PLAIN, "number": "4111", "code": f"c-{MARK}"},
    ),
    ItemType.SSH_KEY: ItemContent(
        type=ItemType.SSH_KEY,
        name="Key",
        fields={"private_key": f"-----BEGIN {MARK}-----", "public_key": ""},
        notes=PLAIN,
    ),
    ItemType.SECURE_NOTE: ItemContent(type=ItemType.SECURE_NOTE, name="Note", notes=PLAIN),
}
HIDDEN = CustomField(id="h1", name="Recovery", kind="hidden", value=f"hidden-{MARK}")
TEXT = CustomField(id="t1", name="Branch", kind="text", value=PLAIN)
TARGETS = [
    "password",
    "totp",
    "totp_code",
    "code",
    "private_key",
    "custom:h1",
    "history:0",
    "history:1",
]


def secret_item(w, item_type):
    from dataclasses import replace

    content = replace(SECRET_ITEMS[item_type], custom_fields=(HIDDEN, TEXT))
    item = make_item(w.alice, w.org, [w.collection], content)
    if item_type == ItemType.LOGIN:  # a password history entry too
        changed = replace(content, fields={**content.fields, "password": f"new-{MARK}"})
        item_update(
            access=access_for(w.alice, w.org),
            item_id=item.pk,
            revision=item.revision,
            edit=ItemEdit(content=changed),
        )
    return item


@pytest.mark.parametrize(
    "level", [AccessLevel.VIEW_EXCEPT_PASSWORDS, AccessLevel.EDIT_EXCEPT_PASSWORDS]
)
@pytest.mark.parametrize("item_type", list(SECRET_ITEMS))
def test_no_secret_reaches_an_except_passwords_member(vault_world, login, level, item_type):
    w = vault_world
    item = secret_item(w, item_type)
    w.bob.memberships.get().collection_grants.update(level=level)
    client = login(w.bob)
    page = client.get(vault_url("item_detail", w.org, item))
    assert page.status_code == 200 and PLAIN.encode() in page.content  # the rest is there
    responses = {"page": page, "list": client.post(vault_url("item_list", w.org), {"q": ""})}
    edit = client.get(vault_url("item_edit", w.org, item))
    assert edit.status_code == (200 if level == AccessLevel.EDIT_EXCEPT_PASSWORDS else 403)
    responses["edit form"] = edit
    for target in TARGETS:
        reveal = client.post(vault_url("item_detail", w.org, item), {"field": target})
        assert reveal.status_code == 400, target
        responses[target] = reveal
    responses["copy"] = client.post(vault_url("item_copy", w.org, item))
    responses["totp"] = client.post(vault_url("item_totp", w.org, item))
    assert (responses["copy"].status_code, responses["totp"].status_code) == (403, 403)
    for name, response in responses.items():
        assert MARK.encode() not in response.content, name
        assert b'id="totp-code"' not in response.content, name
        assert b"Leave blank to keep it" not in response.content, name  # no secret inputs
    assert b"Recovery" in page.content and b"Not shown: your access excludes passwords" in (
        page.content
    )
    revealed = [
        EventType.ITEM_PASSWORD_REVEALED,
        EventType.ITEM_HIDDEN_FIELD_REVEALED,
        EventType.ITEM_CARD_CODE_REVEALED,
        EventType.ITEM_TOTP_REVEALED,
        EventType.ITEM_PASSWORD_COPIED,
    ]
    assert not Event.objects.filter(type__in=revealed).exists()


def test_the_same_item_shows_its_secrets_at_view_level(vault_world, login):
    """Proves the marks above are where the secrets are."""
    w = vault_world
    item = secret_item(w, ItemType.LOGIN)
    client = login(w.bob)  # "can view"
    for target in ("password", "totp", "custom:h1", "history:0"):
        response = client.post(vault_url("item_detail", w.org, item), {"field": target})
        assert MARK.encode() in response.content, target
    assert b'id="totp-code"' in client.get(vault_url("item_detail", w.org, item)).content
