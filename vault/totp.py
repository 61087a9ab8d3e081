"""TOTP codes (RFC 6238) from a stored authenticator key.

A login's TOTP secret is either a base32 key ("JBSWY3DPEHPK3PXP", spaces and
case ignored) or an `otpauth://totp/...` URI carrying the key and optionally
its algorithm, digits and period. django_otp's helper only speaks SHA-1 with
a fixed layout, and otpauth URIs in the wild also use SHA-256/512, so the
algorithm (a dozen lines) lives here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

_ALGORITHMS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


class InvalidTotpSecret(ValueError):
    """The stored value is neither a base32 key nor a usable otpauth URI."""


@dataclass(frozen=True)
class TotpParameters:
    key: bytes = field(repr=False)  # the authenticator secret
    algorithm: str = "SHA1"
    digits: int = 6
    period: int = 30


@dataclass(frozen=True)
class TotpCode:
    code: str = field(repr=False)
    seconds_remaining: int
    period: int


def parse_totp_secret(secret: str) -> TotpParameters:
    secret = secret.strip()
    if secret.lower().startswith("otpauth://"):
        return _parse_otpauth_uri(secret)
    return TotpParameters(key=_decode_base32(secret))


def _parse_otpauth_uri(uri: str) -> TotpParameters:
    parts = urlsplit(uri)
    if parts.netloc.lower() != "totp":
        raise InvalidTotpSecret("Only time-based (otpauth://totp/) keys are supported.")
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    algorithm = query.get("algorithm", "SHA1").upper()
    if algorithm not in _ALGORITHMS:
        raise InvalidTotpSecret("The key's algorithm must be SHA1, SHA256 or SHA512.")
    try:
        digits = int(query.get("digits", 6))
        period = int(query.get("period", 30))
    except ValueError as exc:
        raise InvalidTotpSecret("The key's digits and period must be whole numbers.") from exc
    if not 6 <= digits <= 10 or not 1 <= period <= 300:
        raise InvalidTotpSecret("The key's digits must be 6-10 and its period 1-300 seconds.")
    key = _decode_base32(query.get("secret", ""))
    return TotpParameters(key=key, algorithm=algorithm, digits=digits, period=period)


def _decode_base32(text: str) -> bytes:
    normalised = "".join(text.split()).upper().rstrip("=")
    if not normalised:
        raise InvalidTotpSecret("The authenticator key is empty.")
    try:
        key = base64.b32decode(normalised + "=" * (-len(normalised) % 8))
    except (binascii.Error, ValueError) as exc:
        raise InvalidTotpSecret(
            "The authenticator key must be base32 (letters A-Z and digits 2-7) "
            "or an otpauth://totp/ URI."
        ) from exc
    return key


def totp_code(parameters: TotpParameters, *, at: float | None = None) -> TotpCode:
    now = time.time() if at is None else at
    counter = int(now // parameters.period)
    digest = hmac.new(
        parameters.key, struct.pack(">Q", counter), _ALGORITHMS[parameters.algorithm]
    ).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    code = str(number % 10**parameters.digits).zfill(parameters.digits)
    remaining = parameters.period - int(now % parameters.period)
    return TotpCode(code=code, seconds_remaining=remaining, period=parameters.period)


def current_code(secret: str) -> TotpCode | None:
    """The code to show now, or None if the stored secret cannot produce one."""
    try:
        return totp_code(parse_totp_secret(secret))
    except InvalidTotpSecret:
        return None
