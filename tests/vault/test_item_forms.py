"""Create and edit forms per type, and every kind of bad input: clear message, nothing saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clients.models import AccessLevel
from portal.models import Event, EventType
from tests import factories
from vault.content import ItemType
from vault.crypto import KeyChain, open_item
from vault.models import Item
from vault.services import ItemEdit, item_move, item_trash, item_update

from .conftest import HIDDEN_PIN, TOTP_SECRET, access_for, login_content
from .helpers import form_post, vault_url

pytestmark = pytest.mark.django_db


def content_of(user, item):
    item = Item.objects.get(pk=item.pk)
    access = access_for(user, item.org)
    grant = access.grant_item(
        org_id=item.org_id,
        item_id=item.pk,
        collection_ids=list(item.collections.values_list("pk", flat=True)),
    )
    return open_item(grant, item, KeyChain(item.org_id))


def new_item(client, w, item_type, **fields):
    return client.post(
        vault_url("item_new", w.org, item_type=item_type),
        form_post(item_type, collections=[w.collection], **fields),
    )


TYPE_FIELDS = {
    ItemType.LOGIN: {"username": "u", "password": "p", "totp": TOTP_SECRET},
    ItemType.SECURE_NOTE: {"notes": "n"},
    ItemType.CARD: {
        "cardholder_name": "C",
        "brand": "Visa",
        "number": "4111",
        "exp_month": "02",
        "exp_year": "2030",
        "code": "123",
    },
    ItemType.IDENTITY: {"title": "Dr", "first_name": "A", "email": "a@b.example", "ssn": "1"},
    ItemType.SSH_KEY: {"private_key": "opaque key text"},
}


@pytest.mark.parametrize("item_type", list(TYPE_FIELDS))
def test_create_each_type(vault_world, login, item_type):
    w = vault_world
    client = login(w.alice)
    assert client.get(vault_url("item_new", w.org, item_type=item_type)).status_code == 200
    response = new_item(client, w, item_type, name=f"New {item_type}", **TYPE_FIELDS[item_type])
    assert response.status_code == 302, response.content.decode()[:3000]
    item = Item.objects.exclude(pk__in=[w.item.pk, w.other_item.pk]).get()
    assert item.type == item_type and list(item.collections.all()) == [w.collection]
    content = content_of(w.alice, item)
    assert content.name == f"New {item_type}"
    for key, value in TYPE_FIELDS[item_type].items():
        assert (content.notes if key == "notes" else content.get(key)) == value
    assert Event.objects.filter(type=EventType.ITEM_CREATED, object_id=str(item.pk)).exists()


def test_login_with_uris_and_custom_fields(vault_world, login):
    w = vault_world
    response = new_item(
        login(w.alice),
        w,
        "login",
        name="Full",
        uris=[("https://a.example", "host"), ("javascript:alert(1)", "default")],
        custom=[
            {"name": "Hidden one", "kind": "hidden", "value": "h1"},
            {"name": "Flag", "kind": "boolean", "value": "yes"},
        ],
    )
    assert response.status_code == 302
    content = content_of(w.alice, Item.objects.get(pk=response.url.split("/")[-2]))
    assert [(u.uri, u.match) for u in content.uris] == [
        ("https://a.example", "host"),
        ("javascript:alert(1)", "default"),
    ]
    assert [(f.name, f.kind, f.value) for f in content.custom_fields] == [
        ("Hidden one", "hidden", "h1"),
        ("Flag", "boolean", "true"),
    ]


def test_unknown_type_is_404(vault_world, login):
    w = vault_world
    assert login(w.alice).get(vault_url("item_new", w.org, item_type="bogus")).status_code == 404


def test_members_who_can_add_nowhere_cannot_create(vault_world, login):
    w = vault_world
    assert login(w.bob).get(vault_url("item_type_choose", w.org)).status_code == 403
    assert login(w.bob).get(vault_url("item_new", w.org, item_type="login")).status_code == 403


def assert_nothing_saved(w):
    assert Item.objects.count() == 2  # the two fixture items
    assert (
        not Event.objects.filter(type=EventType.ITEM_CREATED)
        .exclude(object_id__in=[str(w.item.pk), str(w.other_item.pk)])
        .exists()
    )


def test_over_long_field_says_the_limit_and_keeps_the_input(vault_world, login):
    w = vault_world
    response = new_item(login(w.alice), w, "login", name="x" * 201, username="kept-username")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ensure this value has at most 200 characters" in html
    assert "Up to 200 characters." in html
    assert 'value="kept-username"' in html
    assert_nothing_saved(w)


def test_fields_of_another_type_are_refused(vault_world, login):
    w = vault_world
    response = new_item(login(w.alice), w, "login", name="Mixed", number="4111", code="123")
    assert response.status_code == 200
    assert (
        b"These fields do not belong to a login: code, number. Nothing was saved."
        in response.content
    )
    assert_nothing_saved(w)


def test_collection_of_another_org_is_refused(vault_world, login):
    w = vault_world
    data = form_post("login", collections=[w.other_collection], name="Elsewhere")
    response = login(w.alice).post(vault_url("item_new", w.org, item_type="login"), data)
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert_nothing_saved(w)


def test_bad_totp_key_is_explained(vault_world, login):
    w = vault_world
    response = new_item(login(w.alice), w, "login", name="T", totp="not a key!")
    assert b"must be base32" in response.content
    assert_nothing_saved(w)


def test_bad_card_year_and_ssh_key_are_explained(vault_world, login):
    w = vault_world
    client = login(w.alice)
    assert b"four digits" in new_item(client, w, "card", name="C", exp_year="30").content
    response = new_item(client, w, "ssh_key", name="K", public_key="ssh-ed25519 garbage")
    assert b"not a valid OpenSSH public key" in response.content
    unknown = new_item(client, w, "ssh_key", name="K", public_key="ssh-foo AAAAB3NzaC1yc2E=")
    assert unknown.status_code == 200 and b"type of public key is not supported" in unknown.content
    assert_nothing_saved(w)


def test_tampered_row_count_is_refused(vault_world, login):
    w = vault_world
    data = form_post("login", collections=[w.collection], name="Many")
    data["custom-TOTAL_FORMS"] = "500"
    response = login(w.alice).post(vault_url("item_new", w.org, item_type="login"), data)
    assert response.status_code == 200
    assert_nothing_saved(w)


def test_generate_button_without_javascript_fills_a_password(vault_world, login):
    w = vault_world
    data = new_item_data = form_post("login", collections=[w.collection], name="Gen")
    new_item_data["generate"] = "1"
    response = login(w.alice).post(vault_url("item_new", w.org, item_type="login"), data)
    assert response.status_code == 200
    assert b"A new password was generated" in response.content
    assert b'name="password" value="' in response.content
    assert_nothing_saved(w)


# --------------------------------------------------------------------------
# Edit
# --------------------------------------------------------------------------


def edit_post(w, item, **fields):
    data = form_post(
        "login",
        name=fields.pop("name", "Bank login"),
        revision=fields.pop("revision", Item.objects.get(pk=item.pk).revision),
        username=fields.pop("username", "alice"),
        custom=fields.pop(
            "custom",
            [
                {"field_id": "c1", "name": "PIN", "kind": "hidden", "value": ""},
                {"field_id": "c2", "name": "Branch", "kind": "text", "value": "Main street"},
            ],
        ),
        initial_custom=2,
        **fields,
    )
    return data


def test_edit_form_never_shows_stored_secrets(vault_world, login):
    w = vault_world
    html = login(w.alice).get(vault_url("item_edit", w.org, w.item)).content
    for secret in (b"s3cret-Pa55", TOTP_SECRET.encode(), HIDDEN_PIN.encode()):
        assert secret not in html
    assert b"Leave blank to keep it" in html and b"Bank login" in html


def test_edit_blank_secrets_keep_their_values(vault_world, login):
    w = vault_world
    response = login(w.alice).post(
        vault_url("item_edit", w.org, w.item), edit_post(w, w.item, name="Renamed")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    content = content_of(w.alice, w.item)
    assert content.name == "Renamed"
    assert content.get("password") == "s3cret-Pa55" and content.get("totp") == TOTP_SECRET
    assert content.custom_fields[0].value == HIDDEN_PIN
    assert not content.password_history
    assert Event.objects.filter(type=EventType.ITEM_UPDATED).count() == 1
    assert Item.objects.get(pk=w.item.pk).revision == w.item.revision + 1


def test_edit_new_password_goes_to_history_and_clear_removes(vault_world, login):
    w = vault_world
    client = login(w.alice)
    client.post(vault_url("item_edit", w.org, w.item), edit_post(w, w.item, password="n3w"))
    content = content_of(w.alice, w.item)
    assert content.get("password") == "n3w"
    assert content.password_history[0].password == "s3cret-Pa55"
    client.post(vault_url("item_edit", w.org, w.item), edit_post(w, w.item, clear_totp="on"))
    assert content_of(w.alice, w.item).get("totp") == ""


def test_edit_after_someone_else_saved_is_refused_then_can_overwrite(vault_world, login):
    w = vault_world
    stale = edit_post(w, w.item, name="Mine")
    item_update(
        access=access_for(w.org_admin, w.org),
        item_id=w.item.pk,
        revision=w.item.revision,
        edit=ItemEdit(content=login_content("Theirs")),
    )
    client = login(w.alice)
    response = client.post(vault_url("item_edit", w.org, w.item), stale)
    assert response.status_code == 409
    assert b"Someone changed this item" in response.content and b'value="Mine"' in response.content
    assert content_of(w.alice, w.item).name == "Theirs"
    again = edit_post(w, w.item, name="Mine")  # the form now carries the current revision
    assert client.post(vault_url("item_edit", w.org, w.item), again).status_code == 302
    assert content_of(w.alice, w.item).name == "Mine"


def test_edit_of_an_item_moved_meanwhile_is_refused(vault_world, login):
    w = vault_world
    stale = edit_post(w, w.item, name="Mine")
    elsewhere = factories.CollectionFactory(org=w.org, name="Elsewhere")
    item_move(
        access=access_for(w.alice, w.org),
        item_id=w.item.pk,
        revision=w.item.revision,
        collection_ids=[elsewhere.pk],
    )
    response = login(w.alice).post(vault_url("item_edit", w.org, w.item), stale)
    assert response.status_code == 409 and b"Someone changed this item" in response.content


def test_edit_of_an_item_trashed_meanwhile_is_refused(vault_world, login):
    w = vault_world
    stale = edit_post(w, w.item, name="Mine")
    item_trash(access=access_for(w.alice, w.org), item_id=w.item.pk)
    client = login(w.alice)
    response = client.post(vault_url("item_edit", w.org, w.item), stale)
    assert response.status_code == 409
    assert b"moved to the trash since you opened it" in response.content
    assert b'value="Mine"' in response.content
    assert content_of(w.alice, w.item).name == "Bank login"


def test_edit_of_an_item_deleted_meanwhile_keeps_what_was_typed(vault_world, login):
    w = vault_world
    stale = edit_post(w, w.item, name="Typed name")
    Item.objects.filter(pk=w.item.pk).delete()
    response = login(w.alice).post(vault_url("item_edit", w.org, w.item), stale)
    assert response.status_code == 409
    assert b"was deleted, or moved where you no longer have access" in response.content
    assert b'value="Typed name"' in response.content
    assert b'class="primary">Save' not in response.content


def test_edit_needs_an_edit_level(vault_world, login):
    w = vault_world
    assert login(w.bob).get(vault_url("item_edit", w.org, w.item)).status_code == 403
    assert login(w.custom).get(vault_url("item_edit", w.org, w.item)).status_code == 404
    response = login(w.bob).post(
        vault_url("item_edit", w.org, w.item), edit_post(w, w.item, name="X")
    )
    assert response.status_code == 403
    assert content_of(w.alice, w.item).name == "Bank login"


def test_except_passwords_editor_cannot_touch_secrets(vault_world, login):
    w = vault_world
    w.bob.memberships.get().collection_grants.update(level=AccessLevel.EDIT_EXCEPT_PASSWORDS)
    client = login(w.bob)
    form = client.get(vault_url("item_edit", w.org, w.item)).content
    assert b'name="password"' not in form and b"PIN" not in form
    data = edit_post(
        w,
        w.item,
        name="Bob's",
        password="hijack",
        custom=[
            {"field_id": "c2", "name": "Branch", "kind": "text", "value": "High street"},
            {"field_id": "c1", "name": "PIN", "kind": "text", "value": "0000"},
        ],
    )
    data["custom-INITIAL_FORMS"] = "1"
    response = client.post(vault_url("item_edit", w.org, w.item), data)
    assert response.status_code == 302
    content = content_of(w.alice, w.item)
    assert content.name == "Bob's" and content.get("password") == "s3cret-Pa55"
    assert [(f.name, f.kind, f.value) for f in content.custom_fields] == [
        ("Branch", "text", "High street"),
        ("PIN", "hidden", HIDDEN_PIN),
    ]


def test_edit_of_a_trashed_item_redirects_with_a_message(vault_world, login):
    w = vault_world
    item_trash(access=access_for(w.alice, w.org), item_id=w.item.pk)
    response = login(w.alice).get(vault_url("item_edit", w.org, w.item), follow=True)
    assert b"Restore the item from the trash to edit it." in response.content


def test_vault_link_in_the_sidebar_for_members_only(vault_world, login):
    w = vault_world
    link = vault_url("item_list", w.org).encode()
    overview = reverse("org_overview", args=[w.org.pk])
    assert link in login(w.bob).get(overview, follow=True).content
    assert link not in login(w.provider_admin).get(overview).content


def test_switching_the_reprompt_off_needs_the_account_password(vault_world, login):
    """Else a stolen session could switch it off, then reveal the secrets without it."""
    w = vault_world
    Item.objects.filter(pk=w.item.pk).update(reprompt=True)
    client = login(w.alice)
    url = vault_url("item_edit", w.org, w.item)
    assert b'name="account_password"' in client.get(url).content
    for typed in ({}, {"account_password": "guess"}):
        response = client.post(url, {**edit_post(w, w.item, name="Off"), **typed})
        assert response.status_code == 403
        assert b"Type your account password to stop asking for it" in response.content
        assert b"guess" not in response.content
        assert Item.objects.get(pk=w.item.pk).reprompt
        assert content_of(w.alice, w.item).name == "Bank login"
    kept_on = edit_post(w, w.item, name="Still on", reprompt="on")
    assert client.post(url, kept_on).status_code == 302  # no password to keep it on
    assert content_of(w.alice, w.item).name == "Still on"
    switched_off = {
        **edit_post(w, w.item, name="Off"),
        "account_password": factories.TEST_PASSWORD,
    }
    assert client.post(url, switched_off).status_code == 302
    assert not Item.objects.get(pk=w.item.pk).reprompt


def test_items_without_reprompt_ask_no_account_password(vault_world, login):
    w = vault_world
    page = login(w.alice).get(vault_url("item_edit", w.org, w.item))
    assert b'name="account_password"' not in page.content
