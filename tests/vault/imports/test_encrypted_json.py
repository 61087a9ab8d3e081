"""Bitwarden's password-protected JSON: the construction, the wrong password, bad files."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json

import pytest
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

import vault.imports.formats  # noqa: F401  (registers every format)
from vault.imports.formats.base import REGISTRY, ImportLimits, ImportRejected
from vault.imports.formats.bitwarden_encrypted_json import (
    NEEDS_PASSWORD,
    EncStringWriter,
    KdfSettings,
    decrypt_password_protected,
    derive_export_keys,
    file_header,
)

PLAIN = '{"encrypted": false, "collections": [], "items": []}'
FAST = KdfSettings(iterations=5_000)


def protected_file(password: str = "pw-123456", plain: str = PLAIN, kdf=FAST) -> bytes:
    salt = "c2FsdHNhbHRzYWx0c2FsdA=="
    keys = derive_export_keys(password, salt, kdf)
    writer = EncStringWriter(keys)
    data = writer.start() + writer.write(plain[:7]) + writer.write(plain[7:]) + writer.finish()
    return json.dumps({**file_header(salt=salt, kdf=kdf, keys=keys), "data": data}).encode()


def independent_decrypt(document: dict, password: str) -> bytes:
    """Bitwarden's construction, written out again from its description, to pin ours."""
    master = PBKDF2HMAC(
        hashes.SHA256(), 32, document["salt"].encode(), document["kdfIterations"]
    ).derive(password.encode())
    enc = HKDFExpand(hashes.SHA256(), 32, b"enc").derive(master)
    mac = HKDFExpand(hashes.SHA256(), 32, b"mac").derive(master)
    kind, rest = document["data"].split(".", 1)
    iv, ct, tag = (base64.b64decode(p) for p in rest.split("|"))
    assert kind == "2"
    assert hmac.compare_digest(hmac.new(mac, iv + ct, hashlib.sha256).digest(), tag)
    decryptor = Cipher(algorithms.AES(enc), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(decryptor.update(ct) + decryptor.finalize()) + unpadder.finalize()


def test_file_follows_bitwardens_construction():
    raw = protected_file()
    document = json.loads(raw)
    assert list(document) == [
        "encrypted",
        "passwordProtected",
        "salt",
        "kdfType",
        "kdfIterations",
        "encKeyValidation_DO_NOT_EDIT",
        "data",
    ]
    assert independent_decrypt(document, "pw-123456") == PLAIN.encode()
    assert decrypt_password_protected(raw, "pw-123456") == PLAIN.encode()


@pytest.mark.parametrize("password", ["pw-1234567", "", "PW-123456"])
def test_wrong_or_missing_password_is_refused(password):
    with pytest.raises(ImportRejected) as refused:
        decrypt_password_protected(protected_file(), password)
    assert "password" in str(refused.value)


def test_changed_data_is_refused_like_a_wrong_password():
    document = json.loads(protected_file())
    iv, ct, mac = document["data"][2:].split("|")
    flipped = bytearray(base64.b64decode(ct))
    flipped[0] ^= 1
    document["data"] = f"2.{iv}|{base64.b64encode(bytes(flipped)).decode()}|{mac}"
    with pytest.raises(ImportRejected, match="password is wrong"):
        decrypt_password_protected(json.dumps(document).encode(), "pw-123456")


@pytest.mark.parametrize(
    "change",
    [
        {"kdfIterations": 10**8},  # would keep the server busy for minutes
        {"kdfIterations": "600000"},
        {"kdfType": 7},
        {"kdfType": 1, "kdfIterations": 3, "kdfMemory": 10**6, "kdfParallelism": 1},
        {"salt": None},
        {"data": "2.bm90|bm90|bm90"},
        {"encKeyValidation_DO_NOT_EDIT": "0.abc"},
        {"passwordProtected": False},
    ],
)
def test_malformed_files_are_refused_with_a_message(change):
    document = {**json.loads(protected_file()), **change}
    with pytest.raises(ImportRejected):
        decrypt_password_protected(json.dumps(document).encode(), "pw-123456")


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"[]", b'{"encrypted": false}'])
def test_not_json_or_not_protected(raw):
    with pytest.raises(ImportRejected):
        decrypt_password_protected(raw, "pw-123456")


def test_registered_format_detects_the_file_and_asks_for_its_password():
    fmt = REGISTRY["bitwarden_encrypted_json"]
    raw = protected_file()
    assert fmt.detect(raw[:65536])
    assert not fmt.detect(PLAIN.encode())
    with pytest.raises(ImportRejected, match="file password"):
        list(fmt.parse(io.BytesIO(raw), ImportLimits()))
    assert "password" in NEEDS_PASSWORD
