"""Item contents (pure): validation and limits, redaction, history, SSH keys, TOTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vault.content import (
    NAME_MAX,
    PASSWORD_HISTORY_MAX,
    ContentError,
    CustomField,
    ItemContent,
    ItemType,
    LoginUri,
    PasswordChange,
    generate_password,
    ssh_public_key_fingerprint,
    with_password_history,
    with_ssh_fingerprint,
)
from vault.totp import InvalidTotpSecret, TotpParameters, current_code, parse_totp_secret, totp_code

NOW = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def login(**fields) -> ItemContent:
    return ItemContent(type=ItemType.LOGIN, name="Login", fields=fields)


def test_body_round_trip_keeps_every_part():
    content = ItemContent(
        type=ItemType.LOGIN,
        name="ignored in the body",
        fields={"username": "u", "password": "p"},
        uris=(LoginUri("https://a.example", "host"),),
        notes="n",
        custom_fields=(CustomField("x", "Hidden", "hidden", "v"),),
        password_history=(PasswordChange("old", NOW.isoformat()),),
    )
    body = content.body_json()
    assert b"ignored in the body" not in body  # the name is encrypted apart
    again = ItemContent.from_body_json(item_type=ItemType.LOGIN, name=content.name, body=body)
    assert again == content


def test_redaction_removes_every_password_class_secret():
    content = ItemContent(
        type=ItemType.LOGIN,
        name="n",
        fields={"username": "u", "password": "p", "totp": "JBSWY3DP"},
        custom_fields=(
            CustomField("a", "Hidden", "hidden", "h"),
            CustomField("b", "Text", "text", "t"),
        ),
        password_history=(PasswordChange("old", NOW.isoformat()),),
    )
    redacted = content.without_secrets()
    assert redacted.fields == {"username": "u"}
    assert [f.value for f in redacted.custom_fields] == [None, "t"]
    assert redacted.password_history[0].password is None
    with pytest.raises(ValueError, match="redacted"):
        redacted.body_json()


@pytest.mark.parametrize(
    ("item_type", "secrets"),
    [
        (ItemType.CARD, {"code": "123"}),
        (ItemType.SSH_KEY, {"private_key": "-----BEGIN"}),
    ],
)
def test_redaction_covers_card_codes_and_private_keys(item_type, secrets):
    content = ItemContent(type=item_type, name="n", fields=secrets)
    assert content.without_secrets().fields == {}


def test_validation_lists_every_broken_rule():
    content = ItemContent(
        type=ItemType.LOGIN,
        name="x" * (NAME_MAX + 1),
        fields={"number": "4111", "password": "p" * 1001},
        uris=tuple(LoginUri(f"https://{n}.example") for n in range(21)),
    )
    with pytest.raises(ContentError) as error:
        content.validate()
    text = " ".join(error.value.messages)
    assert "limit is 200" in text
    assert "do not belong to a login: number" in text
    assert "Password is 1,001 characters; the limit is 1,000" in text
    assert "at most 20 URIs" in text


def test_choices_are_enforced():
    card = ItemContent(type=ItemType.CARD, name="c", fields={"brand": "Dinosaur Express"})
    with pytest.raises(ContentError, match="Brand"):
        card.validate()


def test_javascript_uris_are_stored_but_never_links():
    assert LoginUri("https://ok.example").is_safe_link
    assert not LoginUri("javascript:alert(1)").is_safe_link
    assert not LoginUri(" JavaScript:alert(1)").is_safe_link
    assert not LoginUri("data:text/html,x").is_safe_link
    assert not LoginUri("bank.example").is_safe_link


def test_password_history_keeps_the_last_five_with_dates():
    item = login(password="p0")
    for n in range(1, 8):
        item = with_password_history(item, login(password=f"p{n}"), now=NOW)
    assert len(item.password_history) == PASSWORD_HISTORY_MAX
    assert [c.password for c in item.password_history] == ["p6", "p5", "p4", "p3", "p2"]
    assert item.password_history[0].changed_at == NOW.isoformat()


def test_password_history_unchanged_when_the_password_is():
    old = with_password_history(login(password="a"), login(password="b"), now=NOW)
    same = with_password_history(old, login(password="b"), now=NOW)
    assert same.password_history == old.password_history


def _ssh_pair() -> tuple[str, str]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return private, public


def test_ssh_fingerprint_is_computed_from_the_public_key():
    _, public = _ssh_pair()
    fingerprint = ssh_public_key_fingerprint(public + " me@host")
    assert fingerprint.startswith("SHA256:") and len(fingerprint) == 7 + 43
    content = ItemContent(type=ItemType.SSH_KEY, name="k", fields={"public_key": public})
    assert with_ssh_fingerprint(content).get("fingerprint") == fingerprint


def test_ssh_public_key_is_derived_from_an_unencrypted_private_key():
    private, public = _ssh_pair()
    content = ItemContent(type=ItemType.SSH_KEY, name="k", fields={"private_key": private})
    filled = with_ssh_fingerprint(content)
    assert filled.get("public_key") == public
    assert filled.get("fingerprint") == ssh_public_key_fingerprint(public)


def test_ssh_bad_public_key_is_refused():
    content = ItemContent(
        type=ItemType.SSH_KEY, name="k", fields={"public_key": "ssh-ed25519 nope"}
    )
    with pytest.raises(ContentError, match="not a valid OpenSSH public key"):
        with_ssh_fingerprint(content)


def test_generated_passwords_are_random_and_long():
    first, second = generate_password(), generate_password()
    assert len(first) == 20 and first != second


# --------------------------------------------------------------------------
# TOTP: RFC 6238 appendix B vectors
# --------------------------------------------------------------------------

RFC_KEYS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}


@pytest.mark.parametrize(
    ("at", "algorithm", "expected"),
    [
        (59, "SHA1", "94287082"),
        (59, "SHA256", "46119246"),
        (59, "SHA512", "90693936"),
        (1111111109, "SHA1", "07081804"),
        (1234567890, "SHA256", "91819424"),
        (20000000000, "SHA512", "47863826"),
    ],
)
def test_totp_matches_rfc_6238(at, algorithm, expected):
    parameters = TotpParameters(key=RFC_KEYS[algorithm], algorithm=algorithm, digits=8)
    assert totp_code(parameters, at=at).code == expected


def test_totp_countdown():
    code = totp_code(TotpParameters(key=b"k" * 10), at=65)
    assert (code.seconds_remaining, code.period) == (25, 30)


def test_totp_reads_base32_and_otpauth_uris():
    assert parse_totp_secret("jbsw y3dp ehpk 3pxp").key == b"Hello!\xde\xad\xbe\xef"
    uri = "otpauth://totp/Bank:alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256&digits=8&period=60"
    parameters = parse_totp_secret(uri)
    assert (parameters.algorithm, parameters.digits, parameters.period) == ("SHA256", 8, 60)


@pytest.mark.parametrize(
    "secret",
    [
        "not base32 at all!",
        "",
        "otpauth://hotp/x?secret=JBSWY3DP",
        "otpauth://totp/x?secret=A&digits=3",
    ],
)
def test_totp_rejects_bad_secrets(secret):
    with pytest.raises(InvalidTotpSecret):
        parse_totp_secret(secret)
    assert current_code(secret) is None
