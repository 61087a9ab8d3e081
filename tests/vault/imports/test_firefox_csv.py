"""Firefox password CSV, every column quoted, as about:logins exports it."""

from __future__ import annotations

import pytest

from vault.imports.formats.base import ImportRejected, RowError

from .formats_helpers import detected, parse

SAMPLE = (
    '"url","username","password","httpRealm","formActionOrigin","guid","timeCreated",'
    '"timeLastUsed","timePasswordChanged"\n'
    '"https://www.bank.example","alice","s3cret-Pa55",,"https://www.bank.example",'
    '"{0a1b2c3d-0000-0000-0000-000000000001}","1700000000000","1700000000000","1700000000000"\n'
    '"chrome://FirefoxAccounts","u","p","Firefox Accounts credentials",,'
    '"{0a1b2c3d-0000-0000-0000-000000000002}","1700000000000","1700000000000","1700000000000"\n'
    '"","bob","pw",,"https://form.example",'
    '"{0a1b2c3d-0000-0000-0000-000000000003}","1700000000000","1700000000000","1700000000000"\n'
)


def test_logins_named_after_their_host():
    bank, internal, form = parse("firefox_csv", SAMPLE)
    assert bank.content.name == "bank.example"
    assert bank.content.fields == {"username": "alice", "password": "s3cret-Pa55"}
    assert [u.uri for u in bank.content.uris] == ["https://www.bank.example"]
    assert isinstance(internal, RowError) and internal.where == "row 3"
    assert form.content.name == "form.example"  # no url: the form's origin


def test_detection():
    assert detected(SAMPLE) == ["firefox_csv"]


def test_missing_columns_are_refused():
    with pytest.raises(ImportRejected, match="guid"):
        parse("firefox_csv", '"url","username","password","httpRealm","formActionOrigin"\n')
