"""1Password 1PUX: a zip of export.attributes and export.data, sample built to its layout."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

import vault.imports.formats  # noqa: F401  (registers every format)
from vault.imports.formats import onepassword_1pux
from vault.imports.formats.base import REGISTRY, ImportLimits, ImportRejected, ParsedItem, RowError
from vault.imports.formats.onepassword_1pux import parse

PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----\n"
ATTRIBUTES = {"version": 3, "description": "1Password Unencrypted Export", "createdAt": 1700000000}


def field(title, field_id, value):
    return {
        "title": title,
        "id": field_id,
        "value": value,
        "indexAtSource": 0,
        "guarded": False,
        "multiline": False,
        "dontGenerate": False,
        "inputTraits": {
            "keyboard": "default",
            "correction": "default",
            "capitalization": "default",
        },
    }


def item(category, title, details, overview=None, **extra):
    return {
        "uuid": f"uuid-{title}",
        "favIndex": extra.pop("favIndex", 0),
        "createdAt": 1650000000,
        "updatedAt": 1660000000,
        "state": extra.pop("state", "active"),
        "categoryUuid": category,
        "details": {"loginFields": [], "notesPlain": "", "sections": [], **details},
        "overview": {
            "subtitle": "",
            "title": title,
            "url": "",
            "ps": 0,
            "pbe": 0.0,
            "pgrng": False,
            **(overview or {}),
        },
        **extra,
    }


LOGIN = item(
    "001",
    "Mail",
    {
        "loginFields": [
            {
                "value": "me@mail.example",
                "id": "",
                "name": "email",
                "fieldType": "E",
                "designation": "username",
            },
            {
                "value": "mail-pass",
                "id": "",
                "name": "password",
                "fieldType": "P",
                "designation": "password",
            },
            {"value": "", "id": "", "name": "submit", "fieldType": "B", "designation": ""},
        ],
        "notesPlain": "my notes",
        "sections": [
            {
                "title": "Security",
                "name": "Section_1",
                "fields": [
                    field(
                        "one-time password",
                        "TOTP_1",
                        {"totp": "otpauth://totp/Mail?secret=JBSWY3DP"},
                    ),
                    field("recovery code", "rc", {"concealed": "r3c0very"}),
                    field("website note", "wn", {"string": "hello"}),
                    field("since", "since", {"date": 1577836800}),
                ],
            },
        ],
        "passwordHistory": [{"value": "old-mail-pass", "time": 1600000000}],
    },
    {
        "urls": [
            {"label": "", "url": "https://mail.example"},
            {"label": "alt", "url": "https://alt.mail.example"},
        ],
        "url": "https://mail.example",
    },
    favIndex=1,
)
CARD = item(
    "002",
    "Visa card",
    {
        "sections": [
            {
                "title": "",
                "name": "",
                "fields": [
                    field("cardholder name", "cardholder", {"string": "Alice Example"}),
                    field("type", "type", {"creditCardType": "visa"}),
                    field("number", "ccnum", {"creditCardNumber": "4111111111111111"}),
                    field("verification number", "cvv", {"concealed": "123"}),
                    field("expiry date", "expiry", {"monthYear": 203003}),
                    field("PIN", "pin", {"concealed": "9999"}),
                ],
            }
        ]
    },
)
NOTE = item("003", "Alarm", {"notesPlain": "4711 then #"})
IDENTITY = item(
    "004",
    "Me",
    {
        "sections": [
            {
                "title": "Identification",
                "name": "name",
                "fields": [
                    field("first name", "firstname", {"string": "Alice"}),
                    field("initial", "initial", {"string": "B"}),
                    field("last name", "lastname", {"string": "Example"}),
                    field("birth date", "birthdate", {"date": 946684800}),
                ],
            },
            {
                "title": "Address",
                "name": "address",
                "fields": [
                    field(
                        "address",
                        "address",
                        {
                            "address": {
                                "street": "1 Main St",
                                "city": "Springfield",
                                "country": "us",
                                "zip": "12345",
                                "state": "ST",
                            }
                        },
                    ),
                    field("default phone", "defphone", {"phone": "+1 555 0100"}),
                ],
            },
        ]
    },
)
PASSWORD = item("005", "Router admin", {"password": "router-pass"})
SSH = item(
    "114",
    "Deploy key",
    {
        "sections": [
            {
                "title": "",
                "name": "",
                "fields": [
                    field(
                        "private key",
                        "private_key",
                        {
                            "sshKey": {
                                "privateKey": PRIVATE_KEY,
                                "metadata": {
                                    "publicKey": "ssh-ed25519 AAAAC3Nza test",
                                    "fingerprint": "SHA256:x",
                                    "keyType": "ed25519",
                                },
                            }
                        },
                    ),
                ],
            }
        ]
    },
)
TRASHED = item("001", "Gone", {}, state="deleted")


def export_data(vaults=None) -> dict:
    vaults = vaults or [
        {
            "attrs": {"uuid": "v1", "desc": "", "avatar": "", "name": "Personal", "type": "P"},
            "items": [LOGIN, CARD, NOTE, IDENTITY, PASSWORD, SSH, TRASHED],
        },
        {
            "attrs": {"uuid": "v2", "desc": "", "avatar": "", "name": "Work", "type": "U"},
            "items": [
                item(
                    "001",
                    "Work login",
                    {
                        "loginFields": [
                            {
                                "value": "worker",
                                "designation": "username",
                                "fieldType": "T",
                                "name": "u",
                            }
                        ]
                    },
                )
            ],
        },
    ]
    return {
        "accounts": [
            {
                "attrs": {
                    "accountName": "Alice",
                    "name": "Alice",
                    "avatar": "",
                    "email": "alice@example.test",
                    "uuid": "acc",
                    "domain": "https://my.1password.com/",
                },
                "vaults": vaults,
            }
        ]
    }


def one_pux(data=None, *, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.attributes", json.dumps(ATTRIBUTES))
        archive.writestr("export.data", json.dumps(data if data is not None else export_data()))
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def parsed(raw: bytes, limits: ImportLimits | None = None) -> list:
    return list(parse(io.BytesIO(raw), limits or ImportLimits()))


def by_name(results) -> dict[str, ParsedItem]:
    return {r.content.name: r for r in results if isinstance(r, ParsedItem)}


def test_every_category_and_field():
    items = by_name(parsed(one_pux()))
    assert set(items) == {
        "Mail",
        "Visa card",
        "Alarm",
        "Me",
        "Router admin",
        "Deploy key",
        "Work login",
    }  # the trashed item is not imported
    mail = items["Mail"]
    assert mail.collections == ("Personal",) and mail.favorite
    assert mail.content.fields == {
        "username": "me@mail.example",
        "password": "mail-pass",
        "totp": "otpauth://totp/Mail?secret=JBSWY3DP",
    }
    assert [u.uri for u in mail.content.uris] == [
        "https://mail.example",
        "https://alt.mail.example",
    ]
    assert mail.content.notes == "my notes"
    assert [(f.name, f.kind, f.value) for f in mail.content.custom_fields] == [
        ("recovery code", "hidden", "r3c0very"),
        ("website note", "text", "hello"),
        ("since", "text", "2020-01-01"),
    ]
    assert [(p.password, p.changed_at[:10]) for p in mail.content.password_history] == [
        ("old-mail-pass", "2020-09-13")
    ]
    card = items["Visa card"].content
    assert card.type == "card"
    assert card.fields == {
        "cardholder_name": "Alice Example",
        "brand": "Visa",
        "number": "4111111111111111",
        "code": "123",
        "exp_month": "03",
        "exp_year": "2030",
    }
    assert [(f.name, f.kind) for f in card.custom_fields] == [("PIN", "hidden")]
    assert items["Alarm"].content.type == "secure_note"
    assert items["Alarm"].content.notes == "4711 then #"
    me = items["Me"].content
    assert me.type == "identity"
    assert me.fields["first_name"] == "Alice" and me.fields["middle_name"] == "B"
    assert me.fields["city"] == "Springfield" and me.fields["postal_code"] == "12345"
    assert me.fields["phone"] == "+1 555 0100"
    assert items["Router admin"].content.fields == {"password": "router-pass"}
    ssh = items["Deploy key"].content
    assert ssh.type == "ssh_key" and ssh.fields["public_key"] == "ssh-ed25519 AAAAC3Nza test"
    assert ssh.fields["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert items["Work login"].collections == ("Work",)


def test_detected_and_registered():
    fmt = REGISTRY["onepassword_1pux"]
    assert fmt.detect(one_pux()[:65536])
    assert not fmt.detect(b"<KeePassFile/>")


def test_not_a_zip_is_refused():
    with pytest.raises(ImportRejected, match="not a zip"):
        parsed(b'{"accounts": []}')


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "files/../../x", "C:/x", "a\\b"])
def test_entries_that_climb_out_are_refused(name):
    with pytest.raises(ImportRejected, match="climbs out"):
        parsed(one_pux(extra={name: b"x"}))


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    bomb = b"\0" * (20 * 1024 * 1024)  # 20 MB of zeros compress a thousandfold
    with pytest.raises(ImportRejected, match="zip bomb"):
        parsed(one_pux(extra={"files/bomb.bin": bomb}))


def test_a_lying_size_header_reads_no_more_than_declared(monkeypatch):
    raw = one_pux()
    original = zipfile.ZipFile.infolist

    def shrunk(self):
        infos = original(self)
        for info in infos:
            if info.filename == "export.data":
                info.file_size = 100
        return infos

    monkeypatch.setattr(zipfile.ZipFile, "infolist", shrunk)
    with pytest.raises(ImportRejected):
        parsed(raw)


def test_missing_export_data_and_bad_json():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export.attributes", "{}")
    with pytest.raises(ImportRejected, match="no export.data"):
        parsed(buffer.getvalue())
    with pytest.raises(ImportRejected):
        parsed(one_pux(data=[1, 2]))
    cut = io.BytesIO()
    with zipfile.ZipFile(cut, "w") as archive:
        archive.writestr("export.data", json.dumps(export_data())[:300])
    with pytest.raises(ImportRejected, match="cut short"):
        parsed(cut.getvalue())


def test_odd_items_are_row_errors_not_crashes():
    data = export_data(
        [
            {
                "attrs": {"name": "V"},
                "items": [
                    "not an object",
                    {"categoryUuid": "001", "overview": "wrong", "details": {"sections": "wrong"}},
                    {
                        "categoryUuid": "001",
                        "details": {"passwordHistory": [{"value": "x", "time": 10**15}]},
                    },
                ],
            }
        ]
    )
    results = parsed(one_pux(data))
    assert isinstance(results[0], RowError)
    assert all(isinstance(r, ParsedItem | RowError) for r in results)
    assert len(results) == 3


def test_limits_are_enforced():
    with pytest.raises(ImportRejected, match="longer than"):
        parsed(one_pux(), ImportLimits(max_field_chars=10))
    with pytest.raises(ImportRejected, match="nested"):
        parsed(one_pux(), ImportLimits(max_depth=4))
    assert onepassword_1pux.MAX_RATIO >= 50
