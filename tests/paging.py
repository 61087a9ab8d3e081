"""Helpers for the tests of paginated pages (portal/pagination.py)."""

from __future__ import annotations

import html
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext


def link(response, rel: str) -> str | None:
    found = re.search(rf'<a href="(\?[^"]*)" rel="{rel}"', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def row_ids(response) -> list:
    return [getattr(row, "pk", row) for row in response.context["page"].object_list]


def page_queries(client, *urls: str) -> list[list[str]]:
    """The SQL of GET each url. (Read before the next request: each request empties the
    connection's query log.)"""
    queries = []
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        queries.append([query["sql"] for query in captured.captured_queries])
    return queries


def walk(client, url: str, rel: str, start: str = "") -> list[tuple[int, list]]:
    """Follow `rel` links from `url + start` to the end: each page's number and rows."""
    pages, query = [], start
    while query is not None:
        response = client.get(url + query)
        assert response.status_code == 200
        pages.append((response.context["page"].number, row_ids(response)))
        query = link(response, rel)
    return pages
