"""Chrome's and Edge's password CSV: name,url,username,password[,note].

Every row is a login. Android entries ("android://<hash>@<package>/") keep their
package as the name when the row has none, as Bitwarden does.
"""

from __future__ import annotations

from typing import BinaryIO

from .base import Format, ImportLimits, Parsed, ParsedItem, register
from .common import csv_header, login, name_or_default, read_csv, uris_of

REQUIRED = ("name", "url", "username", "password")
LABEL = "Chrome / Edge (.csv)"


def detect(head: bytes) -> bool:
    columns = [column.strip() for column in csv_header(head)]
    return columns[:4] == list(REQUIRED)


def parse(stream: BinaryIO, limits: ImportLimits) -> Parsed:
    for row_number, row in read_csv(stream, limits, required=REQUIRED, label=LABEL):
        url = row.get("url", "").strip()
        name = row.get("name", "").strip() or _android_package(url) or ""
        yield ParsedItem(
            content=login(
                name_or_default(name),
                username=row.get("username", ""),
                password=row.get("password", ""),
                uris=uris_of([_normalised(url)] if url else []),
                notes=row.get("note", ""),
            ),
            where=f"row {row_number}",
        )


def _android_package(url: str) -> str | None:
    if not url.startswith("android://") or "@" not in url:
        return None
    return url.split("@", 1)[1].split("/", 1)[0] or None


def _normalised(url: str) -> str:
    package = _android_package(url)
    return f"androidapp://{package}" if package else url


FORMAT = register(Format(key="chrome_csv", label=LABEL, parse=parse, detect=detect))
