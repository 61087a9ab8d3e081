"""Key hierarchy and envelope encryption for the password vault.

Three layers, each wrapping the one below:

1. Key-encryption keys (KEKs) come from deployment configuration, never from
   the database or Django's SECRET_KEY, so a database dump alone decrypts
   nothing and rotating SECRET_KEY cannot lock anyone out of their vault.
2. Each organisation has an X25519 key pair. The private half is stored
   wrapped under a KEK (AES-256-GCM); the public half is stored in the clear.
3. Item fields are encrypted with random data keys (AES-256-GCM). Data keys
   are sealed to the organisation's *public* key with HPKE, so code paths
   that only ever hold the public key (imports) can write but never read.

Every ciphertext is bound to where it belongs through associated data (or the
HPKE ``info``), so a value copied to another org, item, field or key version
fails to decrypt instead of being silently accepted. What is used without being
opened (an org's public key, a data key's sealed bytes and labels) carries an
HMAC tag under a key derived from a KEK, so a database writer without a KEK can
neither plant a public key of their own nor a data key they know.

This module is pure crypto: it knows nothing about Django models.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

logger = logging.getLogger("vault.keys")

KEY_LENGTH = 32  # AES-256 keys, KEKs and raw X25519 keys are all 32 bytes.
NONCE_LENGTH = 12  # 96-bit nonces: the size GCM is specified and analysed for.
_GCM_TAG_LENGTH = 16

# Ids end up inside associated data and database columns; a narrow alphabet keeps
# them unambiguous there (no "|" or "=") and short enough for any column.
_KEK_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,32}")

_DATA_KEY_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

# Everything the underlying primitives raise for a value that cannot be opened:
# InvalidTag for wrong key/AD or tampering, ValueError for malformed keys or
# lengths, TypeError for a stored value that is not bytes at all (e.g. NULL).
_OPEN_ERRORS = (InvalidTag, ValueError, TypeError)


class VaultCryptoError(Exception):
    """Base class for every error raised by the vault key layer."""


class DecryptionFailed(VaultCryptoError):
    """A ciphertext, wrapped key or sealed key could not be opened.

    Deliberately one type for every cause, so callers cannot branch into a
    weaker fallback and attackers learn nothing from which check failed.
    """


class IntegrityCheckFailed(VaultCryptoError):
    """A stored key row's tag does not match what it says: it was written without a KEK."""


class UnknownKeyVersion(VaultCryptoError):
    """Data refers to a key-encryption key id that is not configured."""


class InvalidKeyConfiguration(VaultCryptoError):
    """The configured key-encryption keys are missing or malformed."""


# --------------------------------------------------------------------------
# Key-encryption keys
# --------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class KeyRing:
    """Ordered, immutable set of KEKs; the first entry encrypts new data.

    Older entries stay so existing wrapped keys remain readable during
    rotation.
    """

    entries: tuple[tuple[str, bytes], ...]

    def __post_init__(self) -> None:
        # Normalise to tuples so a list passed in cannot be mutated afterwards.
        entries = tuple((str(kek_id), bytes(key)) for kek_id, key in self.entries)
        object.__setattr__(self, "entries", entries)
        ids = [kek_id for kek_id, _ in entries]
        if not ids:
            raise InvalidKeyConfiguration("the key ring contains no keys")
        if len(set(ids)) != len(ids):
            raise InvalidKeyConfiguration("the key ring contains duplicate key ids")
        for kek_id, key in entries:
            if len(key) != KEY_LENGTH:
                raise InvalidKeyConfiguration(
                    f"key {kek_id!r} is {len(key)} bytes; expected exactly {KEY_LENGTH}"
                )

    @property
    def active_id(self) -> str:
        return self.entries[0][0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(kek_id for kek_id, _ in self.entries)

    def get(self, kek_id: str) -> bytes:
        for candidate_id, key in self.entries:
            if candidate_id == kek_id:
                return key
        raise UnknownKeyVersion(
            f"no key-encryption key with id {kek_id!r} is configured "
            f"(configured: {', '.join(self.ids)})"
        )

    def __repr__(self) -> str:
        # Key rings end up in settings, and settings end up on debug pages and
        # in tracebacks; only ever show the ids.
        return f"KeyRing(active_id={self.active_id!r}, ids={self.ids!r})"


def parse_keyring(spec: str) -> KeyRing:
    """Parse ``"k2:<base64>,k1:<base64>"``; the first entry is the active key.

    Entries may be separated by commas and/or whitespace (including newlines).
    """
    raw_entries = [entry for entry in re.split(r"[,\s]+", spec) if entry]
    if not raw_entries:
        raise InvalidKeyConfiguration(
            "no key-encryption keys configured; expected '<id>:<base64 key>[,...]'"
        )
    entries: list[tuple[str, bytes]] = []
    for position, raw_entry in enumerate(raw_entries, start=1):
        kek_id, key = _parse_keyring_entry(position, raw_entry)
        if any(kek_id == seen_id for seen_id, _ in entries):
            raise InvalidKeyConfiguration(f"entry {position}: key id {kek_id!r} appears twice")
        entries.append((kek_id, key))
    return KeyRing(tuple(entries))


def _parse_keyring_entry(position: int, raw_entry: str) -> tuple[str, bytes]:
    # Error messages identify the entry by position and id only: the raw text
    # may be (or contain) the secret key, so it is never echoed back.
    kek_id, separator, encoded_key = raw_entry.partition(":")
    if not separator or not kek_id:
        raise InvalidKeyConfiguration(
            f"entry {position} has no key id; expected '<id>:<base64 key>'"
        )
    if not _KEK_ID_PATTERN.fullmatch(kek_id):
        raise InvalidKeyConfiguration(
            f"entry {position} has an invalid key id; use 1-32 characters from A-Z a-z 0-9 _ . -"
        )
    if not encoded_key:
        raise InvalidKeyConfiguration(f"entry {position} ({kek_id!r}) has no key after ':'")
    key = _decode_base64_key(encoded_key)
    if key is None:
        raise InvalidKeyConfiguration(f"entry {position} ({kek_id!r}): key is not valid base64")
    if len(key) != KEY_LENGTH:
        raise InvalidKeyConfiguration(
            f"entry {position} ({kek_id!r}): key decodes to {len(key)} bytes; "
            f"expected exactly {KEY_LENGTH}"
        )
    return kek_id, key


def _decode_base64_key(encoded_key: str) -> bytes | None:
    """Decode standard or urlsafe base64, padded or not; None if invalid."""
    # Operators paste keys from different tools; mapping the urlsafe alphabet
    # onto the standard one and restoring padding accepts both forms.
    normalised = encoded_key.replace("-", "+").replace("_", "/").rstrip("=")
    normalised += "=" * (-len(normalised) % 4)
    try:
        return base64.b64decode(normalised, validate=True)
    except (binascii.Error, ValueError):
        return None


def load_keyring(*, keks: str | None, keks_file: str | None) -> KeyRing:
    """Load the key ring from an inline spec or from a file holding one.

    The inline spec wins when both are set. Blank values count as unset,
    because environment-based settings commonly turn "unset" into "".
    """
    if keks is not None and keks.strip():
        return parse_keyring(keks)
    if keks_file is not None and keks_file.strip():
        return _load_keyring_file(keks_file)
    raise InvalidKeyConfiguration(
        "no key-encryption keys configured: set the inline key spec or a key file"
    )


def _load_keyring_file(path: str) -> KeyRing:
    try:
        with open(path, encoding="utf-8") as key_file:
            spec = key_file.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise InvalidKeyConfiguration(f"cannot read key file {path!r}: {reason}") from exc
    try:
        return parse_keyring(spec)
    except InvalidKeyConfiguration as exc:
        raise InvalidKeyConfiguration(f"in key file {path!r}: {exc}") from exc


def generate_kek_entry(kek_id: str) -> str:
    """Return a fresh ``"<id>:<base64>"`` entry to paste into the configuration."""
    if not _KEK_ID_PATTERN.fullmatch(kek_id):
        raise InvalidKeyConfiguration("invalid key id; use 1-32 characters from A-Z a-z 0-9 _ . -")
    encoded_key = base64.urlsafe_b64encode(os.urandom(KEY_LENGTH)).decode("ascii")
    return f"{kek_id}:{encoded_key}"


# --------------------------------------------------------------------------
# Organisation key pairs
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class WrappedKey:
    """An org private key or an upload key, encrypted under one KEK (nonce || AES-GCM)."""

    kek_id: str
    ciphertext: bytes


def generate_org_key_pair() -> tuple[bytes, bytes]:
    """Return ``(raw private key, raw public key)`` for a new X25519 pair."""
    private_key = X25519PrivateKey.generate()
    return private_key.private_bytes_raw(), private_key.public_key().public_bytes_raw()


def wrap_org_private_key(
    private_key: bytes, *, org_id: UUID, version: int, keyring: KeyRing
) -> WrappedKey:
    """Encrypt an org private key under the key ring's active KEK."""
    return _wrap_under_active_kek(
        private_key,
        "org private key",
        lambda kek_id: _org_key_associated_data(org_id, version, kek_id),
        keyring,
    )


def unwrap_org_private_key(
    wrapped: WrappedKey, *, org_id: UUID, version: int, keyring: KeyRing
) -> bytes:
    """Decrypt a wrapped org private key; UnknownKeyVersion if its KEK is gone."""
    return _unwrap(
        wrapped,
        "org private key",
        _org_key_associated_data(org_id, version, wrapped.kek_id),
        keyring,
        org=org_id,
        version=version,
        kek=wrapped.kek_id,
    )


def _org_key_associated_data(org_id: UUID, version: int, kek_id: str) -> bytes:
    return f"org-key|org={_require_uuid(org_id)}|v={int(version)}|kek={kek_id}".encode()


# --------------------------------------------------------------------------
# Row tags: integrity of what the hierarchy trusts without opening it
# --------------------------------------------------------------------------

# An org's public key and a data key's sealed bytes are used without any secret
# (sealing needs only the public key; choosing the members' key reads plain
# columns). Someone who can write rows but holds no KEK could otherwise plant a
# public key or a data key of their own. Each such row therefore carries an
# HMAC-SHA256 tag under a key derived from a KEK, checked before the row is used.
ROW_TAG_LENGTH = 32
_ROW_TAG_HKDF_INFO = b"provider-portal|row-tag|v1"
_PURPOSE_PATTERN = re.compile(r"[a-z_]{1,20}")


@dataclass(frozen=True)
class RowTag:
    """An HMAC over a row's trusted columns, and the id of the KEK its key comes from."""

    kek_id: str
    tag: bytes


def tag_org_public_key(
    public_key: bytes, *, org_id: UUID, version: int, keyring: KeyRing
) -> RowTag:
    return _tag(keyring, _org_public_key_message(public_key, org_id, version))


def check_org_public_key(
    row_tag: RowTag, public_key: bytes, *, org_id: UUID, version: int, keyring: KeyRing
) -> None:
    """IntegrityCheckFailed unless the tag vouches for this public key of this org and version."""
    _check(row_tag, keyring, _org_public_key_message(public_key, org_id, version))


def tag_data_key(
    sealed: bytes,
    *,
    org_id: UUID,
    data_key_id: UUID,
    org_key_version: int,
    purpose: str,
    keyring: KeyRing,
) -> RowTag:
    message = _data_key_message(sealed, org_id, data_key_id, org_key_version, purpose)
    return _tag(keyring, message)


def check_data_key(
    row_tag: RowTag,
    sealed: bytes,
    *,
    org_id: UUID,
    data_key_id: UUID,
    org_key_version: int,
    purpose: str,
    keyring: KeyRing,
) -> None:
    """IntegrityCheckFailed unless the tag vouches for every trusted column of the data key."""
    message = _data_key_message(sealed, org_id, data_key_id, org_key_version, purpose)
    _check(row_tag, keyring, message)


def _org_public_key_message(public_key: bytes, org_id: UUID, version: int) -> bytes:
    # The fixed-format fields come first and the raw bytes last, so no two rows
    # can produce the same message.
    head = f"org-public-key|org={_require_uuid(org_id)}|v={int(version)}|key="
    return head.encode() + bytes(public_key)


def _data_key_message(
    sealed: bytes, org_id: UUID, data_key_id: UUID, org_key_version: int, purpose: str
) -> bytes:
    if not _PURPOSE_PATTERN.fullmatch(str(purpose)):
        raise IntegrityCheckFailed("data key purpose is not a known form")
    head = (
        f"data-key|org={_require_uuid(org_id)}|key={_require_uuid(data_key_id)}"
        f"|v={int(org_key_version)}|purpose={purpose}|sealed="
    )
    return head.encode() + bytes(sealed)


def _row_tag_key(kek: bytes) -> bytes:
    # A key of its own for tags: the KEK itself only ever wraps org private keys.
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_LENGTH, salt=None, info=_ROW_TAG_HKDF_INFO
    ).derive(kek)


def _hmac(key: bytes, message: bytes) -> hmac.HMAC:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(message)
    return mac


def _tag(keyring: KeyRing, message: bytes) -> RowTag:
    kek_id = keyring.active_id
    tag = _hmac(_row_tag_key(keyring.get(kek_id)), message).finalize()
    return RowTag(kek_id=kek_id, tag=tag)


def _check(row_tag: RowTag, keyring: KeyRing, message: bytes) -> None:
    # UnknownKeyVersion propagates as it is: a KEK that is not configured is an
    # operator's matter, not evidence of tampering, and the logs say which.
    if not row_tag.kek_id or not row_tag.tag:
        raise IntegrityCheckFailed("row has no tag")
    kek = keyring.get(row_tag.kek_id)
    try:
        _hmac(_row_tag_key(kek), message).verify(bytes(row_tag.tag or b""))
    except InvalidSignature as exc:
        raise IntegrityCheckFailed("row tag does not match") from exc


# --------------------------------------------------------------------------
# Data keys
# --------------------------------------------------------------------------


def generate_data_key() -> bytes:
    return os.urandom(KEY_LENGTH)


def seal_data_key(
    data_key: bytes, *, org_public_key: bytes, org_id: UUID, data_key_id: UUID
) -> bytes:
    """Seal a data key to an org's public key (HPKE base mode, single shot).

    Needs no secret at all, which is what lets imports write without being
    able to read anything back.
    """
    if len(data_key) != KEY_LENGTH:
        raise VaultCryptoError(f"data key must be {KEY_LENGTH} bytes")
    info = _data_key_info(org_id, data_key_id)
    try:
        public_key = X25519PublicKey.from_public_bytes(org_public_key)
        return _DATA_KEY_SUITE.encrypt(data_key, public_key, info=info)
    except ValueError as exc:
        # Wrong length or a low-order point: the stored public key is unusable.
        raise VaultCryptoError(f"invalid public key for org {org_id}") from exc


def open_data_key(
    sealed: bytes, *, org_private_key: bytes, org_id: UUID, data_key_id: UUID
) -> bytes:
    """Open a sealed data key with the org's private key."""
    info = _data_key_info(org_id, data_key_id)
    try:
        private_key = X25519PrivateKey.from_private_bytes(org_private_key)
        data_key = _DATA_KEY_SUITE.decrypt(bytes(sealed), private_key, info=info)
        if len(data_key) != KEY_LENGTH:
            raise ValueError("sealed value is not a data key")
        return data_key
    except _OPEN_ERRORS as exc:
        raise _decryption_failed("data key", exc, org=org_id, data_key=data_key_id) from exc


def _data_key_info(org_id: UUID, data_key_id: UUID) -> bytes:
    return f"data-key|org={_require_uuid(org_id)}|key={_require_uuid(data_key_id)}".encode()


# --------------------------------------------------------------------------
# Item fields
# --------------------------------------------------------------------------


def encrypt_field(
    plaintext: bytes, *, data_key: bytes, org_id: UUID, item_id: UUID, field: str
) -> bytes:
    """Encrypt one item field; output is nonce || ciphertext || tag."""
    associated_data = _field_associated_data(org_id, item_id, field)
    return _aead_encrypt(data_key, plaintext, associated_data)


def decrypt_field(
    ciphertext: bytes, *, data_key: bytes, org_id: UUID, item_id: UUID, field: str
) -> bytes:
    """Decrypt one item field; DecryptionFailed unless it belongs exactly here."""
    associated_data = _field_associated_data(org_id, item_id, field)
    try:
        return _aead_decrypt(data_key, ciphertext, associated_data)
    except _OPEN_ERRORS as exc:
        raise _decryption_failed("item field", exc, org=org_id, item=item_id, field=field) from exc


def _field_associated_data(org_id: UUID, item_id: UUID, field: str) -> bytes:
    # The field name is last, so the UUIDs before it (fixed format) cannot be
    # confused with it whatever characters it contains.
    return f"item|org={_require_uuid(org_id)}|item={_require_uuid(item_id)}|field={field}".encode()


# --------------------------------------------------------------------------
# Import uploads: a one-off key per upload, wrapped by the KEK, chunks under it
# --------------------------------------------------------------------------


def wrap_upload_key(
    upload_key: bytes, *, org_id: UUID, job_id: UUID, keyring: KeyRing
) -> WrappedKey:
    """Encrypt an import upload's one-off key under the active KEK (like an org private key)."""
    return _wrap_under_active_kek(
        upload_key,
        "upload key",
        lambda kek_id: _upload_key_associated_data(org_id, job_id, kek_id),
        keyring,
    )


def unwrap_upload_key(
    wrapped: WrappedKey, *, org_id: UUID, job_id: UUID, keyring: KeyRing
) -> bytes:
    return _unwrap(
        wrapped,
        "upload key",
        _upload_key_associated_data(org_id, job_id, wrapped.kek_id),
        keyring,
        org=org_id,
        job=job_id,
    )


def encrypt_upload_chunk(
    plaintext: bytes, *, upload_key: bytes, org_id: UUID, job_id: UUID, index: int, last: bool
) -> bytes:
    """One chunk of an upload; its index and whether it is the last are bound to it, so
    chunks can be neither reordered nor cut off the end."""
    associated_data = _upload_chunk_associated_data(org_id, job_id, index, last)
    return _aead_encrypt(upload_key, plaintext, associated_data)


def decrypt_upload_chunk(
    ciphertext: bytes, *, upload_key: bytes, org_id: UUID, job_id: UUID, index: int, last: bool
) -> bytes:
    associated_data = _upload_chunk_associated_data(org_id, job_id, index, last)
    try:
        return _aead_decrypt(upload_key, ciphertext, associated_data)
    except _OPEN_ERRORS as exc:
        raise _decryption_failed("upload chunk", exc, job=job_id, index=index) from exc


def _upload_key_associated_data(org_id: UUID, job_id: UUID, kek_id: str) -> bytes:
    job = _require_uuid(job_id)
    return f"import-upload|org={_require_uuid(org_id)}|job={job}|kek={kek_id}".encode()


def _upload_chunk_associated_data(org_id: UUID, job_id: UUID, index: int, last: bool) -> bytes:
    return (
        f"import-chunk|org={_require_uuid(org_id)}|job={_require_uuid(job_id)}"
        f"|index={int(index)}|last={int(bool(last))}"
    ).encode()


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------


def _wrap_under_active_kek(
    secret: bytes, what: str, associated_data_for: Callable[[str], bytes], keyring: KeyRing
) -> WrappedKey:
    """A 32-byte key encrypted under the active KEK, its associated data naming that KEK."""
    if len(secret) != KEY_LENGTH:
        raise VaultCryptoError(f"{what} must be {KEY_LENGTH} bytes")
    kek_id = keyring.active_id
    ciphertext = _aead_encrypt(keyring.get(kek_id), secret, associated_data_for(kek_id))
    return WrappedKey(kek_id=kek_id, ciphertext=ciphertext)


def _unwrap(
    wrapped: WrappedKey,
    what: str,
    associated_data: bytes,
    keyring: KeyRing,
    **context: object,
) -> bytes:
    kek = keyring.get(wrapped.kek_id)  # Outside the try: a missing KEK is not tampering.
    try:
        return _aead_decrypt(kek, wrapped.ciphertext, associated_data)
    except _OPEN_ERRORS as exc:
        raise _decryption_failed(what, exc, **context) from exc


def _aead_encrypt(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    # AESGCM also accepts 16/24-byte keys; insist on 32 so nothing silently
    # degrades to AES-128.
    if len(key) != KEY_LENGTH:
        raise VaultCryptoError(f"encryption key must be {KEY_LENGTH} bytes")
    # Random nonces are safe here: each key encrypts far fewer than 2**32 values.
    nonce = os.urandom(NONCE_LENGTH)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def _aead_decrypt(key: bytes, blob: bytes, associated_data: bytes) -> bytes:
    # bytes() because database drivers may hand back memoryview for binary columns.
    blob = bytes(blob)
    if len(key) != KEY_LENGTH:
        raise ValueError("wrong key length")
    if len(blob) < NONCE_LENGTH + _GCM_TAG_LENGTH:
        raise ValueError("ciphertext too short")
    nonce, ciphertext = blob[:NONCE_LENGTH], blob[NONCE_LENGTH:]
    return AESGCM(key).decrypt(nonce, ciphertext, associated_data)


def _require_uuid(value: UUID) -> UUID:
    # A str would format differently (case, braces) from the UUID it came from
    # and produce data that can never be decrypted; reject it up front.
    if not isinstance(value, UUID):
        raise TypeError(f"expected a UUID, got {type(value).__name__}")
    return value


def _decryption_failed(what: str, cause: BaseException, **context: object) -> DecryptionFailed:
    """Log the failure and build the exception, mentioning only context ids."""
    details = ", ".join(f"{name}={value}" for name, value in context.items())
    logger.warning("Decryption of %s failed (%s): %s", what, details, type(cause).__name__)
    return DecryptionFailed(f"could not decrypt {what} ({details})")
