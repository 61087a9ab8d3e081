"""LastPass CSV: logins, secure notes (url http://sn), structured notes, folders."""

from __future__ import annotations

import pytest

from vault.imports.formats.base import ImportRejected

from .formats_helpers import detected, items, parse

HEADER = "url,username,password,totp,extra,name,grouping,fav\n"
SAMPLE = (
    HEADER
    + "https://bank.example/login,alice,s3cret-Pa55,JBSWY3DPEHPK3PXP,my notes,Bank,"
    + "Finance\\Banking,1\n"
    + "http://sn,,,,door code 1234,Alarm,,0\n"
    + 'http://sn,,,,"NoteType:Credit Card\nLanguage:en-US\nName on Card:Alice Example\n'
    + "Type:Visa\nNumber:4111111111111111\nSecurity Code:123\nStart Date:,\n"
    + 'Expiration Date:July,2031\nNotes:keep it safe\nsecond line",Company card,(none),0\n'
    + 'http://sn,,,,"NoteType:Address\nLanguage:en-US\nTitle:Dr\nFirst Name:Alice\n'
    + "Middle Name:\nLast Name:Example\nUsername:alicee\nCompany:Alice Co\n"
    + "Address 1:1 Main street\nCity / Town:Springfield\nState:IL\nZip / Postal Code:62701\n"
    + 'Country:US\nEmail Address:alice@example.test\nPhone:555-0100\nNotes:",Home,,0\n'
    + "http://,bob,pw,,,No site,,0\n"
)


def test_logins_notes_cards_and_addresses():
    bank, alarm, card, home, no_site = items("lastpass_csv", SAMPLE)
    assert bank.content.type == "login"
    assert bank.content.fields == {
        "username": "alice",
        "password": "s3cret-Pa55",
        "totp": "JBSWY3DPEHPK3PXP",
    }
    assert [u.uri for u in bank.content.uris] == ["https://bank.example/login"]
    assert bank.content.notes == "my notes"
    assert bank.collections == ("Finance/Banking",) and bank.favorite
    assert alarm.content.type == "secure_note" and alarm.content.notes == "door code 1234"
    assert card.content.type == "card"
    assert card.content.fields == {
        "cardholder_name": "Alice Example",
        "brand": "Visa",
        "number": "4111111111111111",
        "code": "123",
        "exp_month": "07",
        "exp_year": "2031",
    }
    assert card.content.notes.startswith("keep it safe\nsecond line")
    assert card.collections == ()  # "(none)" is LastPass's word for no folder
    assert home.content.type == "identity"
    assert home.content.fields["title"] == "Dr"
    assert home.content.fields["postal_code"] == "62701"
    assert home.content.fields["email"] == "alice@example.test"
    assert no_site.content.uris == ()


def test_an_older_export_without_totp():
    old = "url,username,password,extra,name,grouping,fav\nhttps://a.example,u,p,,A,,0\n"
    (item,) = items("lastpass_csv", old)
    assert item.content.fields == {"username": "u", "password": "p"}
    assert detected(old) == ["lastpass_csv"]


def test_detection():
    assert detected(SAMPLE) == ["lastpass_csv"]


def test_missing_columns_are_refused():
    with pytest.raises(ImportRejected, match="grouping"):
        parse("lastpass_csv", "url,username,password,extra,name,fav\nx,y,z,,n,0\n")
