"""Chrome / Edge password CSV: name,url,username,password,note."""

from __future__ import annotations

import pytest

from vault.imports.formats.base import ImportRejected

from .formats_helpers import detected, items, parse

SAMPLE = (
    "name,url,username,password,note\n"
    "bank.example,https://bank.example/login,alice,s3cret-Pa55,my note\n"
    ",android://AbCd==@com.example.app/,bob,pw,\n"
)


def test_logins_with_notes_and_android_apps():
    bank, app = items("chrome_csv", SAMPLE)
    assert bank.content.name == "bank.example"
    assert bank.content.fields == {"username": "alice", "password": "s3cret-Pa55"}
    assert [u.uri for u in bank.content.uris] == ["https://bank.example/login"]
    assert bank.content.notes == "my note"
    assert app.content.name == "com.example.app"
    assert [u.uri for u in app.content.uris] == ["androidapp://com.example.app"]


def test_an_older_export_without_notes():
    (item,) = items("chrome_csv", "name,url,username,password\na,https://a.example,u,p\n")
    assert item.content.notes == ""


def test_detection():
    assert detected(SAMPLE) == ["chrome_csv"]


def test_missing_columns_are_refused():
    with pytest.raises(ImportRejected, match="password"):
        parse("chrome_csv", "name,url,username\na,b,c\n")
