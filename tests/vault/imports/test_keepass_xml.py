"""KeePass 2 XML, as KeePassXC and KeePass 2.x write it (sample built by hand to their layout)."""

from __future__ import annotations

import base64
import io
import struct
from datetime import UTC, datetime

import pytest

import vault.imports.formats  # noqa: F401  (registers every format)
from vault.imports.formats.base import REGISTRY, ImportLimits, ImportRejected, ParsedItem, RowError
from vault.imports.formats.keepass_xml import parse

SAMPLE = """<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<KeePassFile>
\t<Meta>
\t\t<Generator>KeePassXC</Generator>
\t\t<DatabaseName>Passwords</DatabaseName>
\t\t<MemoryProtection>
\t\t\t<ProtectTitle>False</ProtectTitle>
\t\t\t<ProtectPassword>True</ProtectPassword>
\t\t</MemoryProtection>
\t\t<RecycleBinEnabled>True</RecycleBinEnabled>
\t\t<RecycleBinUUID>yBTQFxA8S0qnw5SG6z2Hbg==</RecycleBinUUID>
\t</Meta>
\t<Root>
\t\t<Group>
\t\t\t<UUID>oyLgHL0YRWWo6nHO9R2dNQ==</UUID>
\t\t\t<Name>Passwords</Name>
\t\t\t<Notes/>
\t\t\t<IconID>48</IconID>
\t\t\t<Times>
\t\t\t\t<LastModificationTime>2024-01-05T10:00:00Z</LastModificationTime>
\t\t\t</Times>
\t\t\t<IsExpanded>True</IsExpanded>
\t\t\t<Entry>
\t\t\t\t<UUID>3Yp2tqGqQe6I3wnqwmk9ow==</UUID>
\t\t\t\t<IconID>0</IconID>
\t\t\t\t<Times>
\t\t\t\t\t<LastModificationTime>2024-03-01T12:00:00Z</LastModificationTime>
\t\t\t\t</Times>
\t\t\t\t<String><Key>Notes</Key><Value>root notes</Value></String>
\t\t\t\t<String><Key>Password</Key><Value ProtectInMemory="True">root-pass</Value></String>
\t\t\t\t<String><Key>Title</Key><Value>Root entry</Value></String>
\t\t\t\t<String><Key>URL</Key><Value>https://root.example</Value></String>
\t\t\t\t<String><Key>UserName</Key><Value>rooter</Value></String>
\t\t\t\t<String><Key>otp</Key><Value ProtectInMemory="True">otpauth://totp/Root:rooter?secret=JBSWY3DPEHPK3PXP&amp;period=30&amp;digits=6&amp;issuer=Root</Value></String>
\t\t\t\t<String><Key>KP2A_URL_1</Key><Value>https://alt.root.example</Value></String>
\t\t\t\t<String><Key>PIN</Key><Value ProtectInMemory="True">4711</Value></String>
\t\t\t\t<String><Key>Branch</Key><Value>Main street</Value></String>
\t\t\t\t<String><Key>Empty</Key><Value/></String>
\t\t\t\t<AutoType><Enabled>True</Enabled><DataTransferObfuscation>0</DataTransferObfuscation></AutoType>
\t\t\t\t<History>
\t\t\t\t\t<Entry>
\t\t\t\t\t\t<UUID>3Yp2tqGqQe6I3wnqwmk9ow==</UUID>
\t\t\t\t\t\t<Times><LastModificationTime>2024-01-01T08:00:00Z</LastModificationTime></Times>
\t\t\t\t\t\t<String><Key>Password</Key><Value ProtectInMemory="True">oldest-pass</Value></String>
\t\t\t\t\t\t<String><Key>Title</Key><Value>Root entry</Value></String>
\t\t\t\t\t</Entry>
\t\t\t\t\t<Entry>
\t\t\t\t\t\t<UUID>3Yp2tqGqQe6I3wnqwmk9ow==</UUID>
\t\t\t\t\t\t<Times><LastModificationTime>2024-02-01T08:00:00Z</LastModificationTime></Times>
\t\t\t\t\t\t<String><Key>Password</Key><Value ProtectInMemory="True">older-pass</Value></String>
\t\t\t\t\t\t<String><Key>Title</Key><Value>Root entry</Value></String>
\t\t\t\t\t</Entry>
\t\t\t\t</History>
\t\t\t</Entry>
\t\t\t<Group>
\t\t\t\t<UUID>Zc0NN7ojRTW7GlJaeg9Olw==</UUID>
\t\t\t\t<Name>Internet</Name>
\t\t\t\t<Entry>
\t\t\t\t\t<UUID>2ZNJyvrvSROq6z5i5e1Iew==</UUID>
\t\t\t\t\t<String><Key>Title</Key><Value>Mail</Value></String>
\t\t\t\t\t<String><Key>UserName</Key><Value>me@mail.example</Value></String>
\t\t\t\t\t<String><Key>Password</Key><Value ProtectInMemory="True">mail-pass</Value></String>
\t\t\t\t</Entry>
\t\t\t\t<Group>
\t\t\t\t\t<UUID>r7ZcY7bTRZ2xV1k3mEcgMw==</UUID>
\t\t\t\t\t<Name>Shops</Name>
\t\t\t\t\t<Entry>
\t\t\t\t\t\t<UUID>WvWk8r3oQbuP5pS0YyTQrw==</UUID>
\t\t\t\t\t\t<String><Key>Title</Key><Value>Shop</Value></String>
\t\t\t\t\t\t<String><Key>Password</Key><Value ProtectInMemory="True">shop-pass</Value></String>
\t\t\t\t\t</Entry>
\t\t\t\t</Group>
\t\t\t</Group>
\t\t\t<Group>
\t\t\t\t<UUID>yBTQFxA8S0qnw5SG6z2Hbg==</UUID>
\t\t\t\t<Name>Recycle Bin</Name>
\t\t\t\t<Entry>
\t\t\t\t\t<UUID>k8CrOHwkRIK5m4n3OpkJ0Q==</UUID>
\t\t\t\t\t<String><Key>Title</Key><Value>Deleted</Value></String>
\t\t\t\t\t<String><Key>Password</Key><Value ProtectInMemory="True">deleted-pass</Value></String>
\t\t\t\t</Entry>
\t\t\t\t<Group><UUID>d2tQ8N1VRfK2cQb1lXr2aQ==</UUID><Name>Deleted group</Name>
\t\t\t\t\t<Entry><UUID>z6hzHqvhQ8eD3mB5Y2c1Jw==</UUID>
\t\t\t\t\t\t<String><Key>Title</Key><Value>Deep deleted</Value></String></Entry>
\t\t\t\t</Group>
\t\t\t</Group>
\t\t\t<Group>
\t\t\t\t<UUID>3a5nKxF2Q4iQ8yPAhGQe8A==</UUID>
\t\t\t\t<Name>Notes</Name>
\t\t\t\t<Entry>
\t\t\t\t\t<UUID>9Y4GbJj7RZmwnOPu3H0D3A==</UUID>
\t\t\t\t\t<String><Key>Title</Key><Value>Alarm</Value></String>
\t\t\t\t\t<String><Key>Notes</Key><Value>4711 then #</Value></String>
\t\t\t\t\t<String><Key>Password</Key><Value ProtectInMemory="True"/></String>
\t\t\t\t</Entry>
\t\t\t</Group>
\t\t</Group>
\t\t<DeletedObjects/>
\t</Root>
</KeePassFile>
"""


def parsed(text: str | bytes, limits: ImportLimits | None = None) -> list:
    raw = text.encode() if isinstance(text, str) else text
    return list(parse(io.BytesIO(raw), limits or ImportLimits()))


def by_name(results) -> dict[str, ParsedItem]:
    return {r.content.name: r for r in results if isinstance(r, ParsedItem)}


def test_entries_groups_and_fields():
    items = by_name(parsed(SAMPLE))
    assert set(items) == {"Root entry", "Mail", "Shop", "Alarm"}  # recycle bin skipped
    root = items["Root entry"]
    assert root.collections == ()  # the root group's name is dropped
    assert root.content.fields == {
        "username": "rooter",
        "password": "root-pass",
        "totp": "otpauth://totp/Root:rooter?secret=JBSWY3DPEHPK3PXP&period=30&digits=6&issuer=Root",
    }
    assert [u.uri for u in root.content.uris] == [
        "https://root.example",
        "https://alt.root.example",
    ]
    assert root.content.notes == "root notes"
    assert [(f.name, f.kind, f.value) for f in root.content.custom_fields] == [
        ("PIN", "hidden", "4711"),  # ProtectInMemory="True"
        ("Branch", "text", "Main street"),
    ]
    assert [(p.password, p.changed_at) for p in root.content.password_history] == [
        ("older-pass", "2024-02-01T08:00:00+00:00"),
        ("oldest-pass", "2024-01-01T08:00:00+00:00"),
    ]
    assert items["Mail"].collections == ("Internet",)
    assert items["Shop"].collections == ("Internet/Shops",)
    assert items["Alarm"].content.type == "secure_note"
    assert items["Alarm"].collections == ("Notes",)


def test_detected_and_registered():
    fmt = REGISTRY["keepass_xml"]
    assert fmt.detect(SAMPLE.encode()[:65536])
    assert not fmt.detect(b'{"encrypted": false, "items": []}')


def test_kdbx4_binary_times_are_read():
    moment = datetime(2024, 2, 1, 8, tzinfo=UTC)
    seconds = int((moment - datetime(1, 1, 1, tzinfo=UTC)).total_seconds())
    packed = base64.b64encode(struct.pack("<q", seconds)).decode()
    sample = SAMPLE.replace("2024-02-01T08:00:00Z", packed)
    root = by_name(parsed(sample))["Root entry"]
    assert root.content.password_history[0].changed_at == "2024-02-01T08:00:00+00:00"


@pytest.mark.parametrize(
    "attack",
    [
        '<!DOCTYPE k [<!ENTITY e "boom">]><KeePassFile><Root><Group><Name>&e;</Name>'
        "</Group></Root></KeePassFile>",
        '<!DOCTYPE k [<!ENTITY x SYSTEM "file:///etc/passwd">]><KeePassFile><Root>'
        "<Group><Name>&x;</Name></Group></Root></KeePassFile>",
        '<!DOCTYPE k SYSTEM "http://evil.example/k.dtd"><KeePassFile/>',
        '<!DOCTYPE k [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<KeePassFile><Root><Group><Name>&b;</Name></Group></Root></KeePassFile>",
    ],
    ids=["entity", "external-entity", "external-dtd", "billion-laughs"],
)
def test_entities_and_external_references_are_refused(attack):
    with pytest.raises(ImportRejected, match="refused for safety"):
        parsed('<?xml version="1.0"?>' + attack)


@pytest.mark.parametrize(
    "text, message",
    [
        (SAMPLE[: len(SAMPLE) // 2], "cut short"),
        ("<html><body/></html>", "not a KeePass"),
        ("<KeePassFile><Meta/></KeePassFile>", "no Root"),
        ("not xml at all", "not valid XML"),
        ('<?xml version="1.0" encoding="tf-8"?><KeePassFile/>', "encoding that does not exist"),
    ],
)
def test_broken_files_are_refused_with_a_message(text, message):
    with pytest.raises(ImportRejected, match=message):
        parsed(text)


def test_still_encrypted_values_are_a_row_error_not_a_crash():
    plain = '<Value ProtectInMemory="True">mail-pass</Value>'
    sample = SAMPLE.replace(plain, '<Value Protected="True">bWFpbA==</Value>')
    results = parsed(sample)
    errors = [r for r in results if isinstance(r, RowError)]
    assert len(errors) == 1 and "Protected" in errors[0].reason
    assert "bWFpbA" not in errors[0].reason
    assert "Mail" not in by_name(results)


def test_too_deep_and_too_long_are_refused():
    deep = "<KeePassFile><Root>" + "<Group>" * 80 + "</Group>" * 80 + "</Root></KeePassFile>"
    with pytest.raises(ImportRejected, match="nested"):
        parsed(deep)
    long_value = SAMPLE.replace("Main street", "x" * 200)
    results = parsed(long_value, ImportLimits(max_field_chars=100))
    assert any(isinstance(r, RowError) and "longer" in r.reason for r in results)


def test_keeotp_settings_give_the_key():
    sample = SAMPLE.replace(
        "otpauth://totp/Root:rooter?secret=JBSWY3DPEHPK3PXP&amp;period=30&amp;digits=6&amp;"
        "issuer=Root",
        "key=JBSWY3DPEHPK3PXP&amp;step=30&amp;size=6",
    )
    assert by_name(parsed(sample))["Root entry"].content.fields["totp"] == "JBSWY3DPEHPK3PXP"
