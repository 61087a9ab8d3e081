"""The export page: who may export, the password asked again, the event, the stream."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from axes.models import AccessAttempt
from django.http import StreamingHttpResponse
from django.urls import reverse

from clients.models import AccessLevel, MemberRole
from portal.models import Event, EventType
from tests import factories
from vault.imports.formats.base import ImportRejected
from vault.imports.formats.bitwarden_encrypted_json import decrypt_password_protected
from vault.models import Item

from ..conftest import make_item
from .conftest import FORMULA_NAME


def export_url(org) -> str:
    return reverse("org_export", kwargs={"org_id": org.pk})


def post(client, org, export_format="bitwarden_json", password=factories.TEST_PASSWORD, **extra):
    data = {"export_format": export_format, "account_password": password, **extra}
    return client.post(export_url(org), data)


def body(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def test_page_shows_the_form_and_counts(export_world, login):
    page = login(export_world.alice).get(export_url(export_world.org))
    assert page.status_code == 200
    assert b"6 items" in page.content
    assert b'name="account_password"' in page.content
    assert b"<legend>File format</legend>" in page.content
    # The sidebar offers the page to those who may use it.
    assert export_url(export_world.org).encode() in page.content


def test_json_export_streams_every_item_with_no_store_and_attachment(export_world, login):
    response = post(login(export_world.alice), export_world.org)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="org_export_')
    chunks = list(response.streaming_content)
    assert len(chunks) >= 6 + 2  # written item by item, never built whole
    data = json.loads(b"".join(chunks))
    assert data["encrypted"] is False
    assert [c["name"] for c in data["collections"]] == ["Shared"]
    assert sorted(i["type"] for i in data["items"]) == [1, 1, 2, 3, 4, 5]
    assert str(export_world.other_item.pk) not in json.dumps(data)  # other org absent
    login_item = next(i for i in data["items"] if i["name"] == "Bank login")
    assert login_item["login"]["password"] == "s3cret-Pa55"
    assert login_item["login"]["uris"][1] == {"match": 1, "uri": "https://bank.example"}
    assert login_item["reprompt"] == 1
    assert login_item["collectionIds"] == [str(export_world.collection.pk)]
    assert [f["type"] for f in login_item["fields"]] == [1, 0, 2]
    assert login_item["passwordHistory"][0] == {
        "lastUsedDate": "2026-02-01T10:00:00.000Z",
        "password": "old-pass-2",
    }
    card = next(i for i in data["items"] if i["type"] == 3)
    assert card["card"]["expMonth"] == "3"


def test_export_records_one_event_with_counts_and_no_names(export_world, login):
    post(login(export_world.alice), export_world.org, export_format="bitwarden_csv")
    event = Event.objects.get(type=EventType.VAULT_EXPORTED)
    assert event.org == export_world.org and event.actor == export_world.alice
    assert event.details == {"format": "bitwarden_csv", "item_count": 3, "left_out": 0}
    assert "Bank" not in json.dumps(event.details)


def test_csv_export_neutralises_formula_cells(export_world, login):
    response = post(login(export_world.alice), export_world.org, export_format="bitwarden_csv")
    assert "no-store" in response["Cache-Control"]
    text = body(response).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "collections",
        "type",
        "name",
        "notes",
        "fields",
        "reprompt",
        "login_uri",
        "login_username",
        "login_password",
        "login_totp",
    ]
    assert len(rows) == 4  # logins and the note; cards, identities and SSH keys left out
    formula = next(row for row in rows if FORMULA_NAME in row[2])
    assert formula[2] == "'" + FORMULA_NAME
    assert formula[7] == "'@SUM(1+1)"
    assert formula[8] == "'-2+3"
    assert formula[3] == "a;'=cmd|' /C calc'!A0"
    bank = next(row for row in rows if row[2] == "Bank login")
    assert bank[0] == "Shared" and bank[1] == "login" and bank[5] == "1"
    assert bank[4] == "PIN: pin-4q21\nBranch: Main street\nActive: true"


def test_encrypted_export_opens_with_its_password_only(export_world, login):
    response = post(
        login(export_world.alice),
        export_world.org,
        export_format="bitwarden_encrypted_json",
        file_password="file-pass-123",
        file_password_confirm="file-pass-123",
    )
    raw = body(response)
    document = json.loads(raw)
    assert document["passwordProtected"] is True and document["kdfType"] == 0
    assert document["kdfIterations"] == 600_000
    assert document["data"].startswith("2.")
    assert b"s3cret-Pa55" not in raw and b"Bank login" not in raw
    plain = json.loads(decrypt_password_protected(raw, "file-pass-123"))
    assert len(plain["items"]) == 6
    with pytest.raises(ImportRejected, match="password is wrong"):
        decrypt_password_protected(raw, "file-pass-124")


def test_encrypted_export_needs_matching_file_passwords(export_world, login):
    response = post(
        login(export_world.alice),
        export_world.org,
        export_format="bitwarden_encrypted_json",
        file_password="file-pass-123",
        file_password_confirm="file-pass-999",
    )
    assert not isinstance(response, StreamingHttpResponse)
    assert b"The two file passwords differ." in response.content
    # What was typed is kept: the chosen format stays chosen.
    assert re.search(rb'value="bitwarden_encrypted_json"[^>]*checked', response.content)
    assert not Event.objects.filter(type=EventType.VAULT_EXPORTED).exists()


def test_wrong_account_password_refuses_and_counts_towards_the_lock(export_world, login, settings):
    client = login(export_world.alice)
    response = post(client, export_world.org, password="guess")
    assert response.status_code == 403
    assert b"That is not your account password. Nothing was exported." in response.content
    assert not Event.objects.filter(type=EventType.VAULT_EXPORTED).exists()
    assert AccessAttempt.objects.filter(username=export_world.alice.email).exists()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post(client, export_world.org, password="guess")
    locked = post(client, export_world.org)  # the right password, now locked out
    assert locked.status_code in (403, 429)
    assert not isinstance(locked, StreamingHttpResponse)


def test_bob_and_custom_without_the_flag_get_403(export_world, login):
    for user in (export_world.bob, export_world.custom):
        assert login(user).get(export_url(export_world.org)).status_code == 403
        assert post(login(user), export_world.org).status_code == 403
    assert not Event.objects.filter(type=EventType.VAULT_EXPORTED).exists()


def test_provider_staff_get_403_and_strangers_404(export_world, login):
    w = export_world
    for user in (w.provider_admin, w.service_user):
        response = post(login(user), w.org)
        assert response.status_code == 403
        assert not isinstance(response, StreamingHttpResponse)
    assert login(w.charlie).get(export_url(w.org)).status_code == 404
    assert login(w.other_provider_admin).get(export_url(w.org)).status_code == 404
    assert login(w.alice).get(export_url(w.other_org)).status_code == 404
    assert not Event.objects.filter(type=EventType.VAULT_EXPORTED).exists()


def test_wrong_method_405(export_world, login):
    response = login(export_world.alice).put(export_url(export_world.org))
    assert response.status_code == 405


def test_custom_flag_exports_only_what_its_grants_show_with_secrets(export_world, login):
    w = export_world
    member = factories.MembershipFactory(
        org=w.org,
        user=factories.UserFactory(email="porter@example.test"),
        role=MemberRole.CUSTOM,
        can_access_import_export=True,
    )
    hidden = factories.CollectionFactory(org=w.org, name="Hidden passwords")
    factories.CollectionMemberGrantFactory(
        collection=hidden, membership=member, level=AccessLevel.VIEW_EXCEPT_PASSWORDS
    )
    visible = factories.CollectionFactory(org=w.org, name="Visible")
    factories.CollectionMemberGrantFactory(
        collection=visible, membership=member, level=AccessLevel.VIEW
    )
    make_item(w.alice, w.org, [hidden])
    seen = make_item(w.alice, w.org, [visible])
    client = login(member.user)
    page = client.get(export_url(w.org))
    assert b"1 item " in page.content and b"left out" in page.content
    data = json.loads(body(post(client, w.org)))
    assert [i["id"] for i in data["items"]] == [str(seen.pk)]
    assert sorted(c["name"] for c in data["collections"]) == ["Hidden passwords", "Visible"]
    event = Event.objects.get(type=EventType.VAULT_EXPORTED)
    assert event.details["item_count"] == 1 and event.details["left_out"] == 1


def test_trash_is_not_exported(export_world, login):
    Item.objects.filter(pk=export_world.items[1].pk).update(deleted_at="2026-01-01T00:00Z")
    data = json.loads(body(post(login(export_world.alice), export_world.org)))
    assert len(data["items"]) == 5


def test_export_reads_in_a_fixed_number_of_queries_per_batch(
    export_world, login, django_assert_max_num_queries
):
    """The stream's queries do not grow with items (one batch holds 200)."""
    from vault.exports import selectors

    client = login(export_world.alice)
    response = post(client, export_world.org)
    with django_assert_max_num_queries(12) as small:
        body(response)
    for _ in range(24):
        make_item(export_world.alice, export_world.org, [export_world.collection])
    response = post(client, export_world.org)
    with django_assert_max_num_queries(12) as large:
        data = json.loads(body(response))
    assert len(data["items"]) == 30
    assert len(large.captured_queries) == len(small.captured_queries)
    assert selectors.BATCH_SIZE >= 30


def test_a_data_key_that_fails_its_check_answers_409_before_any_byte(export_world, login):
    from vault.models import DataKey

    DataKey.objects.filter(org=export_world.org).update(tag=b"\0" * 32)
    response = post(login(export_world.alice), export_world.org)
    assert response.status_code == 409
    assert not isinstance(response, StreamingHttpResponse)
    assert Event.objects.filter(type=EventType.ITEM_DECRYPTION_FAILED).exists()
    assert not Event.objects.filter(type=EventType.VAULT_EXPORTED).exists()


def test_an_item_that_fails_to_open_mid_stream_cuts_the_file_and_is_recorded(export_world, login):
    from vault.crypto import ItemUnreadable

    broken = export_world.items[3]
    Item.objects.filter(pk=broken.pk).update(data_ciphertext=b"\0" * 64)
    response = post(login(export_world.alice), export_world.org)
    with pytest.raises(ItemUnreadable):
        body(response)
    failure = Event.objects.get(type=EventType.ITEM_DECRYPTION_FAILED)
    assert failure.object_id == str(broken.pk)


def test_the_sidebar_link_shows_only_to_those_who_may_export(export_world, login):
    overview = reverse("org_overview", kwargs={"org_id": export_world.org.pk})
    link = export_url(export_world.org).encode()
    assert link in login(export_world.org_admin).get(overview).content
    for user in (export_world.bob, export_world.provider_admin, export_world.custom):
        page = login(user).get(overview, follow=True)
        assert page.status_code == 200, user
        assert link not in page.content
