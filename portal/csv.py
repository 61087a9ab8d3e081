"""The one way to answer a CSV download.

Spreadsheet programs run a cell that starts with `=`, `+`, `-` or `@` (or with a tab or
carriage return before one) as a formula (CSV injection), and a name or an email address
is text a client controls. Such text cells get a leading apostrophe, which shows the value
and runs nothing. Spreadsheets in some locales split cells on `;` or tabs whatever the
quoting, so an apostrophe also goes after every separator inside a cell that a formula
character follows: "Acme;=cmd" becomes "Acme;'=cmd". Numbers are written as they are:
-3 seats remaining is data, not a formula.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.cache import add_never_cache_headers

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A separator that some spreadsheet may split on, with a formula character after it.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([;,\t\r\n])(?=\s*[=+\-@])")


def neutralise(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    value = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line, so rows stream one by one."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]):
    """Stream `rows` as a CSV attachment; large exports never sit whole in memory."""
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)  # names and addresses: no copy in any cache
    return response
