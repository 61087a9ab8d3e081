"""Unit tests for vault.keys: pure crypto, no database or Django settings needed."""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
from uuid import UUID, uuid4

import pytest
from cryptography.exceptions import InvalidTag

from vault.keys import (
    DecryptionFailed,
    InvalidKeyConfiguration,
    KeyRing,
    UnknownKeyVersion,
    VaultCryptoError,
    WrappedKey,
    decrypt_field,
    encrypt_field,
    generate_data_key,
    generate_kek_entry,
    generate_org_key_pair,
    load_keyring,
    open_data_key,
    parse_keyring,
    seal_data_key,
    unwrap_org_private_key,
    wrap_org_private_key,
)

SECRET = b"correct horse battery staple"


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def flip_last_bit(blob: bytes) -> bytes:
    return blob[:-1] + bytes([blob[-1] ^ 0x01])


@pytest.fixture
def kek2() -> bytes:
    return os.urandom(32)


@pytest.fixture
def kek1() -> bytes:
    return os.urandom(32)


@pytest.fixture
def keyring(kek2: bytes, kek1: bytes) -> KeyRing:
    return parse_keyring(f"k2:{b64(kek2)},k1:{b64(kek1)}")


@pytest.fixture
def org_id() -> UUID:
    return uuid4()


@pytest.fixture
def item_id() -> UUID:
    return uuid4()


@pytest.fixture
def data_key_id() -> UUID:
    return uuid4()


@pytest.fixture
def org_keys() -> tuple[bytes, bytes]:
    return generate_org_key_pair()


@pytest.fixture
def data_key() -> bytes:
    return generate_data_key()


# --------------------------------------------------------------------------
# Error hierarchy
# --------------------------------------------------------------------------


@pytest.mark.parametrize("error", [DecryptionFailed, UnknownKeyVersion, InvalidKeyConfiguration])
def test_errors_share_base_class(error: type[Exception]) -> None:
    assert issubclass(error, VaultCryptoError)


# --------------------------------------------------------------------------
# parse_keyring / KeyRing
# --------------------------------------------------------------------------


def test_parse_keyring_first_entry_is_active(keyring: KeyRing, kek2: bytes, kek1: bytes) -> None:
    assert keyring.active_id == "k2"
    assert keyring.ids == ("k2", "k1")
    assert keyring.get("k2") == kek2
    assert keyring.get("k1") == kek1


def test_parse_keyring_accepts_urlsafe_and_standard_base64() -> None:
    key = b"\xfb\xff\xfe" * 10 + b"\xfb\xff"  # encodes with '+' and '/' characters
    standard = base64.b64encode(key).decode()
    urlsafe = base64.urlsafe_b64encode(key).decode()
    assert "+" in standard and "/" in standard
    for encoded in (standard, urlsafe, urlsafe.rstrip("=")):
        assert parse_keyring(f"k1:{encoded}").get("k1") == key


def test_parse_keyring_allows_whitespace_and_newlines(kek2: bytes, kek1: bytes) -> None:
    spec = f"\n  k2:{b64(kek2)} ,\n\tk1:{b64(kek1)},\n"
    assert parse_keyring(spec).ids == ("k2", "k1")
    assert parse_keyring(f"k2:{b64(kek2)}\nk1:{b64(kek1)}").ids == ("k2", "k1")


@pytest.mark.parametrize("spec", ["", "   ", "\n\n", ",", " , ,\n"])
def test_parse_keyring_rejects_empty(spec: str) -> None:
    with pytest.raises(InvalidKeyConfiguration, match="no key-encryption keys"):
        parse_keyring(spec)


def _fixed_bytes(length: int, seed: int) -> bytes:
    # Parameters must be the same in every pytest-xdist worker, so no os.urandom here.
    return bytes((seed + i * 7) % 256 for i in range(length))


def _bad_spec_cases() -> list[tuple[str, str]]:
    good = b64(_fixed_bytes(32, 1))
    return [
        (f"k2:{good},{b64(_fixed_bytes(32, 2))}", r"entry 2 has no key id"),
        (f":{good}", r"entry 1 has no key id"),
        (f"k|2:{good}", r"entry 1 has an invalid key id"),
        (f"{'x' * 33}:{good}", r"entry 1 has an invalid key id"),
        ("k1:", r"entry 1 \('k1'\) has no key after ':'"),
        ("k1:not*base64!", r"entry 1 \('k1'\): key is not valid base64"),
        ("k1:abcde", r"entry 1 \('k1'\): key is not valid base64"),
        (f"k1:{b64(_fixed_bytes(16, 3))}", r"entry 1 \('k1'\): key decodes to 16 bytes"),
        (f"k1:{b64(_fixed_bytes(33, 4))}", r"decodes to 33 bytes; expected exactly 32"),
        (f"k1:{good},k1:{b64(_fixed_bytes(32, 5))}", r"entry 2: key id 'k1' appears twice"),
    ]


@pytest.mark.parametrize(("spec", "message"), _bad_spec_cases())
def test_parse_keyring_rejects_bad_entries(spec: str, message: str) -> None:
    with pytest.raises(InvalidKeyConfiguration, match=message) as excinfo:
        parse_keyring(spec)
    _assert_no_key_material(str(excinfo.value), spec)


def _assert_no_key_material(message: str, spec: str) -> None:
    for entry in spec.split(","):
        encoded = entry.partition(":")[2] or entry
        if len(encoded) >= 8:  # long enough to be (part of) a key
            assert encoded not in message


def test_keyring_get_unknown_id_raises(keyring: KeyRing) -> None:
    with pytest.raises(UnknownKeyVersion, match="'k9'"):
        keyring.get("k9")


def test_keyring_is_immutable(keyring: KeyRing) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        keyring.entries = ()  # type: ignore[misc]


def test_keyring_repr_shows_ids_only(keyring: KeyRing, kek2: bytes, kek1: bytes) -> None:
    text = repr(keyring)
    assert "k2" in text and "k1" in text
    for key in (kek2, kek1):
        assert b64(key) not in text and repr(key) not in text and key.hex() not in text


def test_keyring_constructor_validates() -> None:
    with pytest.raises(InvalidKeyConfiguration):
        KeyRing(())
    with pytest.raises(InvalidKeyConfiguration):
        KeyRing((("a", os.urandom(32)), ("a", os.urandom(32))))
    with pytest.raises(InvalidKeyConfiguration):
        KeyRing((("a", os.urandom(31)),))


# --------------------------------------------------------------------------
# load_keyring / generate_kek_entry
# --------------------------------------------------------------------------


def test_load_keyring_inline(kek2: bytes) -> None:
    assert load_keyring(keks=f"k2:{b64(kek2)}", keks_file=None).get("k2") == kek2


def test_load_keyring_from_file(tmp_path, kek2: bytes, kek1: bytes) -> None:
    key_file = tmp_path / "keks"
    key_file.write_text(f"k2:{b64(kek2)},\nk1:{b64(kek1)}\n", encoding="utf-8")
    keyring = load_keyring(keks=None, keks_file=str(key_file))
    assert keyring.ids == ("k2", "k1")
    assert keyring.get("k1") == kek1


def test_load_keyring_inline_wins_over_file(tmp_path, kek2: bytes) -> None:
    key_file = tmp_path / "keks"
    key_file.write_text(f"from-file:{b64(os.urandom(32))}", encoding="utf-8")
    keyring = load_keyring(keks=f"inline:{b64(kek2)}", keks_file=str(key_file))
    assert keyring.ids == ("inline",)


def test_load_keyring_blank_inline_falls_back_to_file(tmp_path, kek2: bytes) -> None:
    key_file = tmp_path / "keks"
    key_file.write_text(f"k2:{b64(kek2)}", encoding="utf-8")
    assert load_keyring(keks="  ", keks_file=str(key_file)).active_id == "k2"


@pytest.mark.parametrize(("keks", "keks_file"), [(None, None), ("", ""), (" ", None)])
def test_load_keyring_requires_some_configuration(keks: str | None, keks_file: str | None) -> None:
    with pytest.raises(InvalidKeyConfiguration, match="no key-encryption keys configured"):
        load_keyring(keks=keks, keks_file=keks_file)


def test_load_keyring_missing_file(tmp_path) -> None:
    with pytest.raises(InvalidKeyConfiguration, match="cannot read key file"):
        load_keyring(keks=None, keks_file=str(tmp_path / "absent"))


def test_load_keyring_bad_file_names_file(tmp_path) -> None:
    key_file = tmp_path / "keks"
    key_file.write_text("k1:short", encoding="utf-8")
    with pytest.raises(InvalidKeyConfiguration, match=r"in key file .*entry 1 \('k1'\)"):
        load_keyring(keks=None, keks_file=str(key_file))


def test_generate_kek_entry_parses_back() -> None:
    entry = generate_kek_entry("k3")
    keyring = parse_keyring(entry)
    assert keyring.active_id == "k3"
    assert len(keyring.get("k3")) == 32
    assert generate_kek_entry("k3") != entry


@pytest.mark.parametrize("bad_id", ["", "k|3", "k 3", "k:3", "x" * 33])
def test_generate_kek_entry_rejects_bad_id(bad_id: str) -> None:
    with pytest.raises(InvalidKeyConfiguration):
        generate_kek_entry(bad_id)


# --------------------------------------------------------------------------
# Org key pairs
# --------------------------------------------------------------------------


def test_generate_org_key_pair(org_keys: tuple[bytes, bytes]) -> None:
    private_key, public_key = org_keys
    assert len(private_key) == 32 and len(public_key) == 32
    assert generate_org_key_pair()[0] != private_key


def test_wrap_unwrap_round_trip(org_keys, org_id: UUID, keyring: KeyRing) -> None:
    private_key, _ = org_keys
    wrapped = wrap_org_private_key(private_key, org_id=org_id, version=1, keyring=keyring)
    assert wrapped.kek_id == "k2"
    assert private_key not in wrapped.ciphertext
    assert len(wrapped.ciphertext) == 12 + 32 + 16
    unwrapped = unwrap_org_private_key(wrapped, org_id=org_id, version=1, keyring=keyring)
    assert unwrapped == private_key


def test_wrap_nonces_differ(org_keys, org_id: UUID, keyring: KeyRing) -> None:
    first = wrap_org_private_key(org_keys[0], org_id=org_id, version=1, keyring=keyring)
    second = wrap_org_private_key(org_keys[0], org_id=org_id, version=1, keyring=keyring)
    assert first.ciphertext[:12] != second.ciphertext[:12]
    assert first.ciphertext != second.ciphertext


def test_unwrap_after_rotation_uses_old_kek(org_keys, org_id: UUID, kek2: bytes) -> None:
    old_ring = parse_keyring(f"k2:{b64(kek2)}")
    wrapped = wrap_org_private_key(org_keys[0], org_id=org_id, version=1, keyring=old_ring)
    rotated = parse_keyring(f"{generate_kek_entry('k3')},k2:{b64(kek2)}")
    assert (
        unwrap_org_private_key(wrapped, org_id=org_id, version=1, keyring=rotated) == (org_keys[0])
    )
    rewrapped = wrap_org_private_key(org_keys[0], org_id=org_id, version=1, keyring=rotated)
    assert rewrapped.kek_id == "k3"


def test_unwrap_with_unknown_kek_raises(org_keys, org_id: UUID, keyring: KeyRing) -> None:
    wrapped = wrap_org_private_key(org_keys[0], org_id=org_id, version=1, keyring=keyring)
    without_k2 = parse_keyring(generate_kek_entry("k1"))
    with pytest.raises(UnknownKeyVersion):
        unwrap_org_private_key(wrapped, org_id=org_id, version=1, keyring=without_k2)


def test_unwrap_wrong_org_fails(org_keys, org_id: UUID, keyring: KeyRing) -> None:
    wrapped = wrap_org_private_key(org_keys[0], org_id=org_id, version=1, keyring=keyring)
    with pytest.raises(DecryptionFailed):
        unwrap_org_private_key(wrapped, org_id=uuid4(), version=1, keyring=keyring)


def test_unwrap_wrong_version_fails(org_keys, org_id: UUID, keyring: KeyRing) -> None:
    wrapped = wrap_org_private_key(org_keys[0], org_id=org_id, version=1, keyring=keyring)
    with pytest.raises(DecryptionFailed):
        unwrap_org_private_key(wrapped, org_id=org_id, version=2, keyring=keyring)


def test_unwrap_wrong_kek_id_fails(org_keys, org_id: UUID, kek2: bytes) -> None:
    # Same key bytes under two ids: only the associated data differs, and that
    # alone must be enough to reject the relabelled ciphertext.
    ring = KeyRing((("k2", kek2), ("k1", kek2)))
    wrapped = wrap_org_private_key(org_keys[0], org_id=org_id, version=1, keyring=ring)
    relabelled = WrappedKey(kek_id="k1", ciphertext=wrapped.ciphertext)
    with pytest.raises(DecryptionFailed):
        unwrap_org_private_key(relabelled, org_id=org_id, version=1, keyring=ring)


def test_unwrap_wrong_kek_bytes_fails(org_keys, org_id: UUID, keyring: KeyRing) -> None:
    wrapped = wrap_org_private_key(org_keys[0], org_id=org_id, version=1, keyring=keyring)
    impostor = parse_keyring(generate_kek_entry("k2"))
    with pytest.raises(DecryptionFailed):
        unwrap_org_private_key(wrapped, org_id=org_id, version=1, keyring=impostor)


@pytest.mark.parametrize("mangle", ["truncate", "empty", "garbage", "flip"])
def test_unwrap_damaged_ciphertext_fails(
    org_keys, org_id: UUID, keyring: KeyRing, mangle: str
) -> None:
    wrapped = wrap_org_private_key(org_keys[0], org_id=org_id, version=1, keyring=keyring)
    damaged = {
        "truncate": wrapped.ciphertext[:-1],
        "empty": b"",
        "garbage": os.urandom(len(wrapped.ciphertext)),
        "flip": flip_last_bit(wrapped.ciphertext),
    }[mangle]
    with pytest.raises(DecryptionFailed):
        unwrap_org_private_key(WrappedKey("k2", damaged), org_id=org_id, version=1, keyring=keyring)


def test_wrap_rejects_wrong_length_private_key(org_id: UUID, keyring: KeyRing) -> None:
    with pytest.raises(VaultCryptoError):
        wrap_org_private_key(b"short", org_id=org_id, version=1, keyring=keyring)


# --------------------------------------------------------------------------
# Data keys (HPKE)
# --------------------------------------------------------------------------


def test_generate_data_key() -> None:
    key = generate_data_key()
    assert len(key) == 32
    assert generate_data_key() != key


def test_seal_with_public_key_open_with_private_key(
    org_keys, data_key: bytes, org_id: UUID, data_key_id: UUID
) -> None:
    private_key, public_key = org_keys
    # Sealing gets the public key only: this is the write-only import path.
    sealed = seal_data_key(
        data_key, org_public_key=public_key, org_id=org_id, data_key_id=data_key_id
    )
    assert data_key not in sealed
    opened = open_data_key(
        sealed, org_private_key=private_key, org_id=org_id, data_key_id=data_key_id
    )
    assert opened == data_key


def test_seal_twice_differs(org_keys, data_key: bytes, org_id: UUID, data_key_id: UUID) -> None:
    first = seal_data_key(
        data_key, org_public_key=org_keys[1], org_id=org_id, data_key_id=data_key_id
    )
    second = seal_data_key(
        data_key, org_public_key=org_keys[1], org_id=org_id, data_key_id=data_key_id
    )
    assert first != second


@pytest.mark.parametrize("wrong", ["org_id", "data_key_id", "org_private_key"])
def test_open_data_key_wrong_context_fails(
    org_keys, data_key: bytes, org_id: UUID, data_key_id: UUID, wrong: str
) -> None:
    sealed = seal_data_key(
        data_key, org_public_key=org_keys[1], org_id=org_id, data_key_id=data_key_id
    )
    kwargs: dict[str, object] = {
        "org_private_key": org_keys[0],
        "org_id": org_id,
        "data_key_id": data_key_id,
    }
    kwargs[wrong] = {
        "org_id": uuid4(),
        "data_key_id": uuid4(),
        "org_private_key": generate_org_key_pair()[0],
    }[wrong]
    with pytest.raises(DecryptionFailed):
        open_data_key(sealed, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("mangle", ["truncate", "short", "empty", "garbage", "flip"])
def test_open_data_key_damaged_input_fails(
    org_keys, data_key: bytes, org_id: UUID, data_key_id: UUID, mangle: str
) -> None:
    sealed = seal_data_key(
        data_key, org_public_key=org_keys[1], org_id=org_id, data_key_id=data_key_id
    )
    damaged = {
        "truncate": sealed[:-1],
        "short": sealed[:20],
        "empty": b"",
        "garbage": os.urandom(len(sealed)),
        "flip": flip_last_bit(sealed),
    }[mangle]
    with pytest.raises(DecryptionFailed):
        open_data_key(damaged, org_private_key=org_keys[0], org_id=org_id, data_key_id=data_key_id)


def test_open_data_key_malformed_private_key_fails(
    org_keys, data_key: bytes, org_id: UUID, data_key_id: UUID
) -> None:
    sealed = seal_data_key(
        data_key, org_public_key=org_keys[1], org_id=org_id, data_key_id=data_key_id
    )
    with pytest.raises(DecryptionFailed):
        open_data_key(sealed, org_private_key=b"short", org_id=org_id, data_key_id=data_key_id)


@pytest.mark.parametrize("public_key", [b"short", bytes(32)])
def test_seal_rejects_invalid_public_key(
    public_key: bytes, data_key: bytes, org_id: UUID, data_key_id: UUID
) -> None:
    # bytes(32) is a low-order point: HPKE must refuse it rather than derive
    # a predictable shared secret.
    with pytest.raises(VaultCryptoError) as excinfo:
        seal_data_key(data_key, org_public_key=public_key, org_id=org_id, data_key_id=data_key_id)
    assert not isinstance(excinfo.value, DecryptionFailed)


def test_seal_rejects_wrong_length_data_key(org_keys, org_id: UUID, data_key_id: UUID) -> None:
    with pytest.raises(VaultCryptoError):
        seal_data_key(b"short", org_public_key=org_keys[1], org_id=org_id, data_key_id=data_key_id)


# --------------------------------------------------------------------------
# Item fields
# --------------------------------------------------------------------------


def _encrypt(data_key: bytes, org_id: UUID, item_id: UUID, plaintext: bytes = SECRET) -> bytes:
    return encrypt_field(
        plaintext, data_key=data_key, org_id=org_id, item_id=item_id, field="password"
    )


@pytest.mark.parametrize("plaintext", [SECRET, b"", "pässwörd ✓".encode(), _fixed_bytes(4096, 9)])
def test_field_round_trip(plaintext: bytes, data_key: bytes, org_id: UUID, item_id: UUID) -> None:
    ciphertext = _encrypt(data_key, org_id, item_id, plaintext)
    assert len(ciphertext) == 12 + len(plaintext) + 16
    decrypted = decrypt_field(
        ciphertext, data_key=data_key, org_id=org_id, item_id=item_id, field="password"
    )
    assert decrypted == plaintext


def test_field_ciphertext_hides_plaintext(data_key: bytes, org_id: UUID, item_id: UUID) -> None:
    assert SECRET not in _encrypt(data_key, org_id, item_id)


def test_field_nonces_differ(data_key: bytes, org_id: UUID, item_id: UUID) -> None:
    first = _encrypt(data_key, org_id, item_id)
    second = _encrypt(data_key, org_id, item_id)
    assert first[:12] != second[:12]
    assert first != second


def test_field_accepts_memoryview(data_key: bytes, org_id: UUID, item_id: UUID) -> None:
    ciphertext = memoryview(_encrypt(data_key, org_id, item_id))
    decrypted = decrypt_field(
        ciphertext,  # type: ignore[arg-type]
        data_key=data_key,
        org_id=org_id,
        item_id=item_id,
        field="password",
    )
    assert decrypted == SECRET


@pytest.mark.parametrize("wrong", ["org_id", "item_id", "field", "data_key"])
def test_field_wrong_context_fails(
    data_key: bytes, org_id: UUID, item_id: UUID, wrong: str
) -> None:
    ciphertext = _encrypt(data_key, org_id, item_id)
    kwargs: dict[str, object] = {
        "data_key": data_key,
        "org_id": org_id,
        "item_id": item_id,
        "field": "password",
    }
    kwargs[wrong] = {
        "org_id": uuid4(),
        "item_id": uuid4(),
        "field": "username",
        "data_key": generate_data_key(),
    }[wrong]
    with pytest.raises(DecryptionFailed):
        decrypt_field(ciphertext, **kwargs)  # type: ignore[arg-type]


def test_field_moved_to_other_item_fails(data_key: bytes, org_id: UUID) -> None:
    # Same org and data key: an attacker with database write access swaps the
    # password column of two items. Both must refuse to decrypt.
    item_a, item_b = uuid4(), uuid4()
    ciphertext_a = _encrypt(data_key, org_id, item_a)
    assert (
        decrypt_field(
            ciphertext_a, data_key=data_key, org_id=org_id, item_id=item_a, field="password"
        )
        == SECRET
    )
    with pytest.raises(DecryptionFailed):
        decrypt_field(
            ciphertext_a, data_key=data_key, org_id=org_id, item_id=item_b, field="password"
        )


@pytest.mark.parametrize("length", [0, 1, 11, 12, 27, 28])
def test_field_truncated_input_fails(
    data_key: bytes, org_id: UUID, item_id: UUID, length: int
) -> None:
    ciphertext = _encrypt(data_key, org_id, item_id)
    with pytest.raises(DecryptionFailed):
        decrypt_field(
            ciphertext[:length], data_key=data_key, org_id=org_id, item_id=item_id, field="password"
        )


@pytest.mark.parametrize("garbage", [_fixed_bytes(64, 11), b"\x00" * 40, b"plaintext-password"])
def test_field_garbage_input_fails(
    data_key: bytes, org_id: UUID, item_id: UUID, garbage: bytes
) -> None:
    with pytest.raises(DecryptionFailed):
        decrypt_field(garbage, data_key=data_key, org_id=org_id, item_id=item_id, field="password")


def test_field_tampered_input_fails(data_key: bytes, org_id: UUID, item_id: UUID) -> None:
    ciphertext = _encrypt(data_key, org_id, item_id)
    for position in (0, 12, len(ciphertext) - 1):  # nonce, body, tag
        tampered = bytearray(ciphertext)
        tampered[position] ^= 0x80
        with pytest.raises(DecryptionFailed):
            decrypt_field(
                bytes(tampered), data_key=data_key, org_id=org_id, item_id=item_id, field="password"
            )


def test_field_none_input_fails(data_key: bytes, org_id: UUID, item_id: UUID) -> None:
    # A NULL column must never be mistaken for an empty (or plaintext) value.
    with pytest.raises(DecryptionFailed):
        decrypt_field(None, data_key=data_key, org_id=org_id, item_id=item_id, field="password")  # type: ignore[arg-type]


@pytest.mark.parametrize("key_length", [0, 16, 24, 31, 33])
def test_field_requires_256_bit_key(
    org_id: UUID, item_id: UUID, data_key: bytes, key_length: int
) -> None:
    # AESGCM itself would accept 16/24-byte keys; the vault must not.
    wrong_length_key = os.urandom(key_length)
    with pytest.raises(VaultCryptoError):
        _encrypt(wrong_length_key, org_id, item_id)
    ciphertext = _encrypt(data_key, org_id, item_id)
    with pytest.raises(DecryptionFailed):
        decrypt_field(
            ciphertext, data_key=wrong_length_key, org_id=org_id, item_id=item_id, field="password"
        )


def test_field_rejects_string_ids(data_key: bytes, org_id: UUID, item_id: UUID) -> None:
    # A str id would format differently from the UUID and make data unreadable later.
    with pytest.raises(TypeError):
        encrypt_field(SECRET, data_key=data_key, org_id=str(org_id), item_id=item_id, field="x")  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Failure reporting: chained cause, logging, no secrets in messages
# --------------------------------------------------------------------------


def test_decryption_failure_is_logged_with_ids_only(
    caplog: pytest.LogCaptureFixture, data_key: bytes, org_id: UUID, item_id: UUID
) -> None:
    ciphertext = _encrypt(data_key, org_id, item_id)
    caplog.set_level(logging.WARNING, logger="vault.keys")
    with pytest.raises(DecryptionFailed) as excinfo:
        decrypt_field(ciphertext, data_key=data_key, org_id=org_id, item_id=item_id, field="pin")
    assert isinstance(excinfo.value.__cause__, InvalidTag)
    records = [record for record in caplog.records if record.name == "vault.keys"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    logged = records[0].getMessage()
    for text in (logged, str(excinfo.value)):
        assert str(org_id) in text and str(item_id) in text and "pin" in text
        _assert_no_secrets(text, SECRET, data_key, ciphertext)


def test_data_key_failure_is_logged_with_ids_only(
    caplog: pytest.LogCaptureFixture, org_keys, data_key: bytes, org_id: UUID, data_key_id: UUID
) -> None:
    sealed = seal_data_key(
        data_key, org_public_key=org_keys[1], org_id=org_id, data_key_id=data_key_id
    )
    caplog.set_level(logging.WARNING, logger="vault.keys")
    other_data_key_id = uuid4()
    with pytest.raises(DecryptionFailed) as excinfo:
        open_data_key(
            sealed, org_private_key=org_keys[0], org_id=org_id, data_key_id=other_data_key_id
        )
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "vault.keys")
    for text in (logged, str(excinfo.value)):
        assert str(org_id) in text and str(other_data_key_id) in text
        _assert_no_secrets(text, data_key, org_keys[0], sealed)


def test_org_key_failure_is_logged_with_ids_only(
    caplog: pytest.LogCaptureFixture, org_keys, org_id: UUID, keyring: KeyRing, kek2: bytes
) -> None:
    wrapped = wrap_org_private_key(org_keys[0], org_id=org_id, version=3, keyring=keyring)
    caplog.set_level(logging.WARNING, logger="vault.keys")
    with pytest.raises(DecryptionFailed) as excinfo:
        unwrap_org_private_key(wrapped, org_id=org_id, version=4, keyring=keyring)
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "vault.keys")
    for text in (logged, str(excinfo.value)):
        assert str(org_id) in text and "k2" in text
        _assert_no_secrets(text, org_keys[0], kek2, wrapped.ciphertext)


def _assert_no_secrets(text: str, *secrets: bytes) -> None:
    for secret in secrets:
        for rendering in (secret.hex(), b64(secret), repr(secret)[2:-1]):
            assert rendering not in text
        if secret.isascii():
            assert secret.decode() not in text
