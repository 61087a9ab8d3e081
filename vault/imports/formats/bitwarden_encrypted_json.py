"""Bitwarden's password-protected export: the whole plain JSON, encrypted under a file password.

The layout, as Bitwarden's clients write and read it::

    {"encrypted": true, "passwordProtected": true, "salt": "<base64 of 16 random bytes>",
     "kdfType": 0, "kdfIterations": 600000,            (1 = Argon2id, with
     "kdfMemory": <MiB>, "kdfParallelism": <n>)
     "encKeyValidation_DO_NOT_EDIT": "<EncString of a random UUID>",
     "data": "<EncString of the unencrypted Bitwarden JSON>"}

The key: the KDF of the password (UTF-8) with the salt *text* (its UTF-8 bytes, not the
bytes it encodes; Argon2id takes the SHA-256 of that text) gives 32 bytes, stretched by
HKDF-Expand (SHA-256, no extract step) into an encryption key (info "enc") and a MAC key
(info "mac"). An EncString of type 2 is "2.<iv>|<ciphertext>|<mac>" in base64:
AES-256-CBC with PKCS#7 padding, then HMAC-SHA256 over iv + ciphertext.

The import pipeline calls `decrypt_password_protected(data, password)` and feeds the plain
JSON it returns to the Bitwarden JSON format. The format registered here only recognises
such a file, so that one uploaded without its password gets a message saying what to do.
The export side (`vault.exports`) writes the file with `EncStringWriter`, a stream.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import uuid
from dataclasses import dataclass
from typing import BinaryIO

from argon2.low_level import Type as Argon2Type
from argon2.low_level import hash_secret_raw
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .base import Format, ImportLimits, ImportRejected, Parsed, register

KDF_PBKDF2 = 0
KDF_ARGON2ID = 1
# Bitwarden's default for new accounts and exports.
PBKDF2_DEFAULT_ITERATIONS = 600_000
# What a file may ask of us: Bitwarden's own bounds, so a crafted file cannot make the
# server derive a key for minutes or allocate gigabytes.
PBKDF2_ITERATIONS_RANGE = (5_000, 2_000_000)
ARGON2_ITERATIONS_RANGE = (2, 10)
ARGON2_MEMORY_MIB_RANGE = (16, 1_024)
ARGON2_PARALLELISM_RANGE = (1, 16)
# The encrypted file is read whole to be decrypted; this bounds what a file may declare.
MAX_FILE_BYTES = 200 * 1024 * 1024

WRONG_PASSWORD = (
    "The file password is wrong, or the file was changed after it was exported. "
    "Type the password that was set when the file was exported."
)
NOT_PASSWORD_PROTECTED = (
    "This file is not a password-protected Bitwarden export. Choose its own format instead."
)
NEEDS_PASSWORD = (
    "This is a password-protected Bitwarden export: type its file password to import it."
)


@dataclass(frozen=True)
class KdfSettings:
    kdf_type: int = KDF_PBKDF2
    iterations: int = PBKDF2_DEFAULT_ITERATIONS
    memory_mib: int | None = None  # Argon2id only
    parallelism: int | None = None  # Argon2id only

    def header(self) -> dict:
        header = {"kdfType": self.kdf_type, "kdfIterations": self.iterations}
        if self.kdf_type == KDF_ARGON2ID:
            header["kdfMemory"] = self.memory_mib
            header["kdfParallelism"] = self.parallelism
        return header


@dataclass(frozen=True)
class ExportKeys:
    enc_key: bytes = b""
    mac_key: bytes = b""

    def __repr__(self) -> str:  # keys never reach a log or a traceback's locals
        return "ExportKeys(...)"


def derive_export_keys(password: str, salt: str, kdf: KdfSettings) -> ExportKeys:
    """The file's encryption and MAC keys from the password and the salt text."""
    secret = password.encode()
    if kdf.kdf_type == KDF_PBKDF2:
        master = PBKDF2HMAC(
            algorithm=hashes.SHA256(), length=32, salt=salt.encode(), iterations=kdf.iterations
        ).derive(secret)
    elif kdf.kdf_type == KDF_ARGON2ID:
        master = hash_secret_raw(
            secret=secret,
            salt=hashlib.sha256(salt.encode()).digest(),
            time_cost=kdf.iterations,
            memory_cost=(kdf.memory_mib or 0) * 1024,
            parallelism=kdf.parallelism or 1,
            hash_len=32,
            type=Argon2Type.ID,
        )
    else:
        raise ImportRejected("The file names a key derivation this portal does not know.")
    return ExportKeys(enc_key=_hkdf_expand(master, b"enc"), mac_key=_hkdf_expand(master, b"mac"))


def _hkdf_expand(key: bytes, info: bytes) -> bytes:
    return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(key)


# --------------------------------------------------------------------------
# Writing: EncStrings, whole or as a stream
# --------------------------------------------------------------------------


class EncStringWriter:
    """Encrypts a text as it comes and yields the EncString's characters, never holding it.

    `start()` yields "2.<iv>|", each `write(text)` the base64 of the ciphertext so far
    (in whole 3-byte groups), and `finish()` the rest and "|<mac>".
    """

    def __init__(self, keys: ExportKeys):
        self._iv = os.urandom(16)
        self._encryptor = Cipher(algorithms.AES(keys.enc_key), modes.CBC(self._iv)).encryptor()
        self._padder = padding.PKCS7(128).padder()
        self._mac = hmac.new(keys.mac_key, self._iv, hashlib.sha256)
        self._pending = b""  # ciphertext bytes not yet base64-encoded (fewer than 3)

    def start(self) -> str:
        return f"2.{_b64(self._iv)}|"

    def write(self, text: str) -> str:
        padded = self._padder.update(text.encode())
        return self._emit(self._encryptor.update(padded))

    def finish(self) -> str:
        tail = self._encryptor.update(self._padder.finalize()) + self._encryptor.finalize()
        body = self._emit(tail)
        rest = _b64(self._pending)
        self._pending = b""
        return f"{body}{rest}|{_b64(self._mac.digest())}"

    def _emit(self, ciphertext: bytes) -> str:
        self._mac.update(ciphertext)
        data = self._pending + ciphertext
        whole = len(data) - len(data) % 3
        self._pending = data[whole:]
        return _b64(data[:whole])


def encrypt_string(text: str, keys: ExportKeys) -> str:
    writer = EncStringWriter(keys)
    return writer.start() + writer.write(text) + writer.finish()


def new_salt() -> str:
    return _b64(os.urandom(16))


def file_header(*, salt: str, kdf: KdfSettings, keys: ExportKeys) -> dict:
    """Every member of the file but "data", in Bitwarden's order."""
    return {
        "encrypted": True,
        "passwordProtected": True,
        "salt": salt,
        **kdf.header(),
        "encKeyValidation_DO_NOT_EDIT": encrypt_string(str(uuid.uuid4()), keys),
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def decrypt_password_protected(data: bytes, password: str) -> bytes:
    """The plain Bitwarden JSON inside a password-protected export, or ImportRejected.

    A wrong password and a changed file give the same message: the MAC of the
    validation string fails before the data is touched.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected("The file is too large to be a password-protected export here.")
    document = _load_document(data)
    kdf = _kdf_settings(document)
    salt = document.get("salt")
    if not isinstance(salt, str) or not salt or len(salt) > 1_000:
        raise ImportRejected("The file's salt is missing or malformed; export it again.")
    if not password:
        raise ImportRejected(NEEDS_PASSWORD)
    keys = derive_export_keys(password, salt, kdf)
    decrypt_enc_string(document.get("encKeyValidation_DO_NOT_EDIT"), keys)
    plain = decrypt_enc_string(document.get("data"), keys)
    try:
        plain.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportRejected("The decrypted file is not text; export it again.") from exc
    return plain


def is_password_protected(document) -> bool:
    return (
        isinstance(document, dict)
        and document.get("encrypted") is True
        and document.get("passwordProtected") is True
    )


def _load_document(data: bytes) -> dict:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ImportRejected("The file is not valid JSON; it may be cut short.") from exc
    if not is_password_protected(document):
        raise ImportRejected(NOT_PASSWORD_PROTECTED)
    return document


def _kdf_settings(document: dict) -> KdfSettings:
    kdf_type = document.get("kdfType")
    iterations = _int_in(document.get("kdfIterations"), (1, 10**9), "kdfIterations")
    if kdf_type == KDF_PBKDF2:
        _int_in(iterations, PBKDF2_ITERATIONS_RANGE, "kdfIterations")
        return KdfSettings(KDF_PBKDF2, iterations)
    if kdf_type == KDF_ARGON2ID:
        return KdfSettings(
            KDF_ARGON2ID,
            _int_in(iterations, ARGON2_ITERATIONS_RANGE, "kdfIterations"),
            _int_in(document.get("kdfMemory"), ARGON2_MEMORY_MIB_RANGE, "kdfMemory"),
            _int_in(document.get("kdfParallelism"), ARGON2_PARALLELISM_RANGE, "kdfParallelism"),
        )
    raise ImportRejected("The file names a key derivation this portal does not know.")


def _int_in(value, bounds: tuple[int, int], name: str) -> int:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ImportRejected(
            f"The file's {name} is missing or outside {low:,}–{high:,}; export it again."
        )
    return value


def decrypt_enc_string(enc_string, keys: ExportKeys) -> bytes:
    """Open a type 2 EncString; the MAC is checked (in constant time) before decrypting."""
    iv, ciphertext, mac = _split_enc_string(enc_string)
    expected = hmac.new(keys.mac_key, iv + ciphertext, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, mac):
        raise ImportRejected(WRONG_PASSWORD)
    decryptor = Cipher(algorithms.AES(keys.enc_key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise ImportRejected(WRONG_PASSWORD) from exc


def _split_enc_string(enc_string) -> tuple[bytes, bytes, bytes]:
    malformed = ImportRejected("The file's encrypted data is malformed; export it again.")
    if not isinstance(enc_string, str) or not enc_string.startswith("2."):
        raise malformed
    parts = enc_string[2:].split("|")
    if len(parts) != 3:
        raise malformed
    try:
        iv, ciphertext, mac = (base64.b64decode(part, validate=True) for part in parts)
    except (binascii.Error, ValueError) as exc:
        raise malformed from exc
    if len(iv) != 16 or len(mac) != 32 or not ciphertext or len(ciphertext) % 16:
        raise malformed
    return iv, ciphertext, mac


# --------------------------------------------------------------------------
# The registered format: recognises the file, and says that it needs its password
# --------------------------------------------------------------------------


def detect(head: bytes) -> bool:
    text = head[:4096].decode("utf-8", errors="ignore").replace(" ", "").replace("\n", "")
    return '"passwordProtected":true' in text and '"encrypted":true' in text


def parse(stream: BinaryIO, limits: ImportLimits) -> Parsed:
    """Reached only without a password: the pipeline decrypts first when it has one."""
    raise ImportRejected(NEEDS_PASSWORD)
    yield  # pragma: no cover  (a generator, like every format's parse)


FORMAT = register(
    Format(
        key="bitwarden_encrypted_json",
        label="Bitwarden (.json, password protected)",
        parse=parse,
        detect=detect,
    )
)
