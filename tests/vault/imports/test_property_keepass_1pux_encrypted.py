"""Property: KeePass XML, 1PUX and the password-protected JSON, fed random and mutated files,
either yield items and row errors or refuse the file with ImportRejected; never anything else."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.imports.formats.base import ImportLimits, ImportRejected, ParsedItem, RowError
from vault.imports.formats.bitwarden_encrypted_json import decrypt_password_protected
from vault.imports.formats.keepass_xml import parse as parse_keepass
from vault.imports.formats.onepassword_1pux import parse as parse_1pux

from .test_encrypted_json import protected_file
from .test_keepass_xml import SAMPLE as KEEPASS_SAMPLE
from .test_onepassword_1pux import one_pux

LIMITS = ImportLimits(max_items=1_000, max_field_chars=5_000, max_depth=32)
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw, sample: bytes) -> bytes:
    data = bytearray(sample)
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif action == "truncate":
            del data[at:]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 256))]
    return bytes(data)


def assert_yields_or_rejects(parse, raw: bytes) -> None:
    try:
        results = list(parse(io.BytesIO(raw), LIMITS))
    except ImportRejected as refused:
        assert str(refused)  # a message to show
        return
    assert all(isinstance(r, ParsedItem | RowError) for r in results)


KEEPASS = KEEPASS_SAMPLE.encode()
ONE_PUX = one_pux()
PROTECTED = protected_file()


@PROPERTY
@given(st.one_of(st.binary(max_size=2_000), mutated(KEEPASS)))
def test_keepass_xml_never_crashes(raw):
    assert_yields_or_rejects(parse_keepass, raw)


@PROPERTY
@given(st.one_of(st.binary(max_size=2_000), mutated(ONE_PUX)))
def test_1pux_never_crashes(raw):
    assert_yields_or_rejects(parse_1pux, raw)


@PROPERTY
@given(st.one_of(st.binary(max_size=2_000), mutated(PROTECTED)))
def test_password_protected_json_never_crashes(raw):
    try:
        plain = decrypt_password_protected(raw, "pw-123456")
    except ImportRejected as refused:
        assert str(refused)
        return
    assert isinstance(plain, bytes)
