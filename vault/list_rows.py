"""The rows of the vault list's table (and of its search results), written as markup in
Python, as `providers.dashboard_rows` writes the dashboard's and for the same reason: the
template language's lookups for 25 rows were a large part of the page's time under load.

Item names are the decrypted plaintext: each is escaped here exactly as the template
escaped it (`django.utils.html.escape` is `html.escape` of the value's `str`). The table
around the rows stays in templates/vault/item_list.html.
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe

from .selectors import ItemRow

_STAR = '<span class="star" title="Favourite">★</span> '
_REPROMPT = ' <span class="badge">re-prompt</span>'


def item_rows_html(rows: list[ItemRow]) -> list[SafeString]:
    """The `<tr>` of each row of a list page (`selectors.item_list_page`)."""
    html = []
    for row in rows:
        if row.name is None:
            name = f"<em>Unreadable item {row.item.pk}</em>"
        else:
            name = escape(row.name)
        badges = "".join(f'<span class="badge">{escape(c.name)}</span> ' for c in row.collections)
        html.append(
            mark_safe(  # noqa: S308 (every value escaped above)
                "<tr>"
                f'<td>{_STAR if row.favorite else ""}<a href="{row.url}">{name}</a>'
                f"{_REPROMPT if row.item.reprompt else ''}</td>"
                f"<td>{escape(str(row.type_label))}</td>"
                f"<td>{badges}</td>"
                f"<td>{escape(row.updated)}</td>"
                "</tr>"
            )
        )
    return html
