"""Firefox's password CSV ("about:logins" export): every column quoted,
"url","username","password","httpRealm","formActionOrigin","guid","timeCreated",
"timeLastUsed","timePasswordChanged".

Every row is a login named after its site's host. Firefox's own bookkeeping (guid,
times, realm) is not an item field; it is dropped. Rows for "chrome://" URLs (Firefox's
own accounts) are skipped, as Bitwarden skips them.
"""

from __future__ import annotations

from typing import BinaryIO
from urllib.parse import urlsplit

from .base import Format, ImportLimits, Parsed, ParsedItem, RowError, register
from .common import header_has, login, name_or_default, read_csv, uris_of

REQUIRED = ("url", "username", "password", "httpRealm", "formActionOrigin", "guid")
LABEL = "Firefox (.csv)"


def detect(head: bytes) -> bool:
    return header_has(head, set(REQUIRED))


def parse(stream: BinaryIO, limits: ImportLimits) -> Parsed:
    for row_number, row in read_csv(stream, limits, required=REQUIRED, label=LABEL):
        where = f"row {row_number}"
        url = row.get("url", "").strip() or row.get("formActionOrigin", "").strip()
        if url.startswith("chrome://"):
            yield RowError(where, "A Firefox-internal login (chrome://), not a site; skipped.")
            continue
        yield ParsedItem(
            content=login(
                name_or_default(_host(url)),
                username=row.get("username", ""),
                password=row.get("password", ""),
                uris=uris_of([url] if url else []),
            ),
            where=where,
        )


def _host(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


FORMAT = register(Format(key="firefox_csv", label=LABEL, parse=parse, detect=detect))
