"""Bitwarden's unencrypted JSON: the organization shape and the individual shape."""

from __future__ import annotations

import io
import json

import pytest

from vault.imports.formats.base import REGISTRY, ImportLimits, ImportRejected, RowError

from .conftest import as_json, bitwarden_org_export
from .formats_helpers import detected, items, parse

INDIVIDUAL = {
    "encrypted": False,
    "folders": [
        {"id": "f1000000-0000-0000-0000-000000000001", "name": "Social"},
        {"id": "f1000000-0000-0000-0000-000000000002", "name": "Work/Servers"},
    ],
    "items": [
        {
            "id": "a1",
            "organizationId": None,
            "folderId": "f1000000-0000-0000-0000-000000000002",
            "type": 1,
            "reprompt": 0,
            "name": "Server",
            "notes": None,
            "favorite": True,
            "login": {"uris": [{"match": 3, "uri": "ssh://host"}], "username": "root"},
            "collectionIds": None,
        },
        {
            "id": "a2",
            "organizationId": None,
            "folderId": None,
            "type": 3,
            "name": "Amex",
            "card": {"brand": "Amex", "expMonth": 12, "expYear": 2030, "number": "3782"},
        },
    ],
}


def test_the_organization_shape():
    parsed = items("bitwarden_json", as_json(bitwarden_org_export()))
    assert [p.content.type for p in parsed] == [
        "login",
        "secure_note",
        "card",
        "identity",
        "ssh_key",
    ]
    login = parsed[0]
    assert login.collections == ("Finance/Banking",) and login.favorite and login.reprompt
    assert login.where == "item 1"
    assert parsed[3].collections == ()


def test_the_individual_shape_folders_become_collections():
    server, card = items("bitwarden_json", json.dumps(INDIVIDUAL))
    assert server.collections == ("Work/Servers",) and server.favorite
    assert [(u.uri, u.match) for u in server.content.uris] == [("ssh://host", "exact")]
    assert card.content.fields == {
        "brand": "American Express",
        "number": "3782",
        "exp_month": "12",
        "exp_year": "2030",
    }
    assert card.collections == ()


def test_detection():
    assert detected(as_json(bitwarden_org_export())) == ["bitwarden_json"]
    assert detected(json.dumps(INDIVIDUAL)) == ["bitwarden_json"]
    encrypted = {"encrypted": True, "encKeyValidation_DO_NOT_EDIT": "2.x", "items": []}
    assert "bitwarden_json" not in detected(json.dumps(encrypted))
    protected = {"encrypted": True, "passwordProtected": True, "data": "2.x"}
    assert "bitwarden_json" not in detected(json.dumps(protected))


def test_an_empty_export_is_fine():
    assert parse("bitwarden_json", '{"encrypted": false, "folders": [], "items": []}') == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"encrypted": false, "items": [{"type": 1, "name": "cut', "cut short"),
        ('{"encrypted": false, "items": [}', "not valid JSON"),
        ("[1, 2, 3]", "not a Bitwarden"),
        ('{"encrypted": false, "folders": []}', "no list of 'items'"),
        ('{"items": {"type": 1}}', "should be a list"),
        ('{"items": "many"}', "should be a list"),
        ('{"encrypted": true, "items": []}', "encrypted Bitwarden export"),
        (b'{"items": [{"name": "\xff\xfe"}]}', "not valid JSON"),
        (b'{"items": [\x00]}', "not valid JSON"),
    ],
)
def test_broken_files_are_refused(data, message):
    with pytest.raises(ImportRejected, match=message):
        parse("bitwarden_json", data)


def test_nesting_too_deep_is_refused():
    deep = '{"items": [{"notes": ' + "[" * 100 + "]" * 100 + "}]}"
    with pytest.raises(ImportRejected, match="nested more than 64 levels"):
        parse("bitwarden_json", deep)


def test_a_value_beyond_the_limit_is_refused():
    data = json.dumps({"items": [{"type": 2, "name": "n", "notes": "y" * 500}]})
    with pytest.raises(ImportRejected, match="longer than 100 characters"):
        parse("bitwarden_json", data, ImportLimits(max_field_chars=100))


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"type": 1, "name": 5, "login": {}}, None),  # numbers read as text, as JSON allows
        ({"type": 1, "name": {"a": 1}}, "'name' should be text"),
        ({"type": 1, "name": "x", "login": []}, "'login' should be a JSON object"),
        ({"type": 1, "name": "x", "login": {"uris": "https://a"}}, "'uris' should be a list"),
        ({"type": 1, "name": "x", "fields": [1]}, "custom field is not a JSON object"),
        ({"type": "one", "name": "x"}, "'type' should be a number"),
        ({"type": 7, "name": "x"}, "not one we import"),
        ({"type": 1, "name": "x", "collectionIds": [{"id": 1}]}, "'collectionIds' should be text"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_items_of_wrong_types_are_row_errors(item, reason):
    (entry,) = parse("bitwarden_json", json.dumps({"items": [item]}))
    if reason is None:
        assert entry.content.name == "5"
    else:
        assert isinstance(entry, RowError) and reason in entry.reason
        assert entry.where == "item 1"


class _OneWay(io.RawIOBase):
    """A stream that cannot go back: the parser reads it in one pass, event by event."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        chunk = self._data.read(len(target))
        target[: len(chunk)] = chunk
        return len(chunk)


def test_a_stream_that_cannot_rewind_gives_the_same_items():
    data = as_json(bitwarden_org_export())
    one_pass = list(
        REGISTRY["bitwarden_json"].parse(io.BufferedReader(_OneWay(data)), ImportLimits())
    )
    two_passes = parse("bitwarden_json", data)
    assert [(p.content.name, p.collections) for p in one_pass] == [
        (p.content.name, p.collections) for p in two_passes
    ]
    deep = '{"items": [{"notes": ' + "[" * 100 + "]" * 100 + "}]}"
    with pytest.raises(ImportRejected, match="nested more than 64 levels"):
        list(
            REGISTRY["bitwarden_json"].parse(
                io.BufferedReader(_OneWay(deep.encode())), ImportLimits()
            )
        )
