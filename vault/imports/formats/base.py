"""What every import format provides, and what it yields.

A format is a `parse(stream, limits)` generator over a binary stream (the decrypted
upload, read as it is decrypted, never whole) that yields a `ParsedItem` per item
and a `RowError` per row it could not take, and raises `ImportRejected` for a file
it cannot read at all. Messages and locations never quote a value from the file:
a row is named by its number, an entry by its position, never by its name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from vault.content import ItemContent


class ImportRejected(Exception):
    """The whole file is refused; the message says why and what to do, quoting no value."""


@dataclass(frozen=True)
class ImportLimits:
    max_items: int = 100_000
    max_field_chars: int = 100_000  # a single CSV cell or JSON string
    max_depth: int = 64  # JSON / XML nesting


@dataclass(frozen=True)
class ParsedItem:
    content: ItemContent
    # Collection names from the file, nested with "/" ("Parent/Child"); empty: none named.
    collections: tuple[str, ...] = ()
    favorite: bool = False
    reprompt: bool = False
    where: str = ""  # "row 12", "item 40": for error messages only


@dataclass(frozen=True)
class RowError:
    where: str  # "row 12", "line 40", "item 3"
    reason: str  # never quotes the row's values


Parsed = Iterator[ParsedItem | RowError]


@dataclass(frozen=True)
class Format:
    key: str  # "bitwarden_json"
    label: str  # "Bitwarden (.json)"
    parse: Callable[[BinaryIO, ImportLimits], Parsed]
    # Given the first bytes of the file (up to 64 KiB), whether it looks like this format.
    detect: Callable[[bytes], bool]


REGISTRY: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    if fmt.key in REGISTRY:
        raise ValueError(f"import format {fmt.key!r} registered twice")
    REGISTRY[fmt.key] = fmt
    return fmt
