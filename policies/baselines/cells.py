"""The baselines app's part of another app's page, written as markup in Python.

`dashboard_cell` goes under a client's "Policies on" figure on the provider dashboard
(`providers.dashboard_rows`, which says why it is Python): the baseline the client was
given, linked to its page, and whether the client still matches it. It reads the client
row's `baseline_assignment` (`select_related`), so it costs no query.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from django.utils.safestring import SafeString, mark_safe

from policies.models import BaselineAssignment


def dashboard_cell(
    assignment: BaselineAssignment | None, *, provider_id, baseline_url: Callable[[object], str]
) -> SafeString:
    """`baseline_url(client_id)`: the address of the client's baseline page."""
    if assignment is None or assignment.baseline.provider_id != provider_id:
        return mark_safe("")  # noqa: S308 (empty)
    if assignment.drift:
        count = len(assignment.drift)
        differ = "policy differs" if count == 1 else "policies differ"
        titles = ", ".join(escape(title) for title in assignment.drift_titles)
        state = f': <span class="warn">{count} {differ}: {titles}</span>'
    else:
        state = ': <span class="hint">matches</span>'
    link = f'<a href="{baseline_url(assignment.org_id)}">{escape(assignment.baseline.name)}</a>'
    return mark_safe(f"<br><small>{link}{state}</small>")  # noqa: S308 (escaped above)
