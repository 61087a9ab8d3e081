"""Bitwarden CSV, both headers, as Bitwarden's exporter writes them."""

from __future__ import annotations

import pytest

from vault.imports.formats.base import ImportLimits, ImportRejected

from .formats_helpers import detected, items, parse

INDIVIDUAL = (
    "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,"
    "login_totp\n"
    'Social,1,login,Twitter,"two\nlines","Branch: Main street\nPIN: 4321",1,'
    '"https://twitter.com,https://x.com",alice,s3cret-Pa55,JBSWY3DPEHPK3PXP\n'
    ",,note,Alarm code,1234 then #,,0,,,,\n"
    ",0,login,,,,0,,,,\n"
)
ORGANIZATION = (
    "collections,type,name,notes,fields,reprompt,login_uri,login_username,login_password,"
    "login_totp\n"
    '"Finance,Finance/Banking",login,Bank,,,0,https://bank.example,alice,pw,\n'
    ",note,Wifi,password is on the router,,0,,,,\n"
)


def test_the_individual_header():
    bank, note, unnamed = items("bitwarden_csv", INDIVIDUAL)
    assert bank.content.type == "login" and bank.content.name == "Twitter"
    assert bank.content.fields == {
        "username": "alice",
        "password": "s3cret-Pa55",
        "totp": "JBSWY3DPEHPK3PXP",
    }
    assert [u.uri for u in bank.content.uris] == ["https://twitter.com", "https://x.com"]
    assert bank.content.notes == "two\nlines"
    assert [(f.name, f.kind, f.value) for f in bank.content.custom_fields] == [
        ("Branch", "text", "Main street"),
        ("PIN", "text", "4321"),
    ]
    assert bank.collections == ("Social",) and bank.favorite and bank.reprompt
    assert bank.where == "row 2"
    assert note.content.type == "secure_note" and note.content.notes == "1234 then #"
    assert note.collections == () and not note.favorite and not note.reprompt
    assert note.where == "row 3"  # the quoted two-line cell above is one row
    assert unnamed.content.name == "--"  # as Bitwarden names an item without a name


def test_the_organization_header():
    bank, wifi = items("bitwarden_csv", ORGANIZATION)
    assert bank.collections == ("Finance", "Finance/Banking")
    assert bank.content.fields == {"username": "alice", "password": "pw"}
    assert wifi.content.type == "secure_note" and wifi.collections == ()


def test_detection():
    assert detected(INDIVIDUAL) == ["bitwarden_csv"]
    assert detected("\ufeff" + ORGANIZATION) == ["bitwarden_csv"]


def test_missing_columns_are_refused():
    with pytest.raises(ImportRejected, match="lacks the column.*login_password"):
        parse("bitwarden_csv", "folder,favorite,type,name,notes,fields,login_uri\nx,0,login,a,,,\n")


def test_a_field_beyond_the_limit_is_refused():
    data = INDIVIDUAL.replace("1234 then #", "y" * 500)
    with pytest.raises(ImportRejected, match="longer than 100 characters"):
        parse("bitwarden_csv", data, ImportLimits(max_field_chars=100))


def test_bad_encoding_and_nul_bytes_are_refused():
    with pytest.raises(ImportRejected, match="not UTF-8"):
        parse("bitwarden_csv", INDIVIDUAL.encode() + b"\xff\xfe,bad\n")
    with pytest.raises(ImportRejected, match="NUL bytes"):
        parse("bitwarden_csv", INDIVIDUAL.replace("Alarm", "Al\x00arm"))


def test_an_empty_file_is_refused():
    with pytest.raises(ImportRejected, match="empty"):
        parse("bitwarden_csv", b"")
