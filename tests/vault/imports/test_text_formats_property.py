"""Property: each text parser, fed random or mutated files, yields items / RowErrors or
raises ImportRejected with a message; nothing else (no crash, no other exception)."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.imports.formats.base import REGISTRY, ImportLimits, ImportRejected, ParsedItem, RowError

from .conftest import BITWARDEN_ORG_EXPORT
from .test_bitwarden_csv import INDIVIDUAL, ORGANIZATION
from .test_chrome_csv import SAMPLE as CHROME
from .test_firefox_csv import SAMPLE as FIREFOX
from .test_lastpass_csv import SAMPLE as LASTPASS

SAMPLES = {
    "bitwarden_json": json.dumps(BITWARDEN_ORG_EXPORT).encode(),
    "bitwarden_csv": (INDIVIDUAL + ORGANIZATION).encode(),
    "lastpass_csv": LASTPASS.encode(),
    "chrome_csv": CHROME.encode(),
    "firefox_csv": FIREFOX.encode(),
}
LIMITS = ImportLimits(max_items=1000, max_field_chars=5000, max_depth=16)


def check(key: str, data: bytes) -> None:
    try:
        for entry in REGISTRY[key].parse(io.BufferedReader(io.BytesIO(data)), LIMITS):
            assert isinstance(entry, ParsedItem | RowError)
            if isinstance(entry, ParsedItem):
                assert isinstance(entry.content.name, str)
            else:
                assert entry.where and entry.reason
    except ImportRejected as rejection:
        assert str(rejection)  # a message to show


@st.composite
def mutated(draw, sample: bytes) -> bytes:
    data = bytearray(sample)
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        if action == "flip":
            data[position] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 20))]
        elif action == "insert":
            data[position:position] = draw(
                st.sampled_from([b'"', b",", b"\n", b"{", b"[", b"]", b"}", b"\x00", b"\xff", b":"])
            )
        elif action == "truncate":
            del data[position:]
        else:
            data[position:position] = data[position : position + draw(st.integers(1, 40))]
    return bytes(data)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_the_samples_parse(key):
    entries = list(REGISTRY[key].parse(io.BufferedReader(io.BytesIO(SAMPLES[key])), LIMITS))
    assert any(isinstance(entry, ParsedItem) for entry in entries)


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_random_bytes_never_crash_a_parser(key):
    @FUZZ
    @given(st.binary(max_size=2000))
    def run(data):
        check(key, data)

    run()


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_mutated_files_never_crash_a_parser(key):
    @FUZZ
    @given(st.data())
    def run(data):
        check(key, data.draw(mutated(SAMPLES[key])))

    run()


@pytest.mark.parametrize("key", ["bitwarden_json"])
def test_random_json_never_crashes_the_json_parser(key):
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "items",
                        "type",
                        "name",
                        "login",
                        "uris",
                        "fields",
                        "card",
                        "collectionIds",
                        "folders",
                        "collections",
                        "id",
                        "notes",
                        "passwordHistory",
                        "sshKey",
                    ]
                ),
                children,
                max_size=5,
            )
        ),
        max_leaves=30,
    )

    @FUZZ
    @given(json_values)
    def run(value):
        check(key, json.dumps({"items": [value, {"type": 1, "name": "x"}]}).encode())
        check(key, json.dumps(value).encode())

    run()
