"""The rows of the provider dashboard's client table, written as markup in Python.

Django's admin writes its change list's rows in Python too (`admin_list.items_for_result`).
Here the reason is time: the template language resolves each `{{ client.x }}` and
`{% if %}` through several lookups, and 25 rows of eight cells took about 4 ms of the
page, most of its time under load. Every value is escaped as the template escaped it
(`django.utils.html.escape` is `html.escape` of the value's `str`); the table around the
rows (headers, pagination) stays in templates/providers/dashboard.html.
"""

from __future__ import annotations

from html import escape

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from clients.models import Organization
from policies.baselines.cells import dashboard_cell
from portal.row_links import url_for_each

from .models import Provider


def dashboard_rows(
    provider: Provider, clients: list[Organization], *, can_rename: bool
) -> list[SafeString]:
    """The `<tr>` of each client of a dashboard page (from `client_rows_with_counts`)."""
    overview_url = url_for_each("org_overview")
    edit_url = url_for_each("provider_client_edit", provider.pk)
    baseline_url = url_for_each("provider_client_baseline", provider.pk)
    rows = []
    for client in clients:
        name = escape(client.name)
        disabled = "" if client.enabled else ' <span class="badge warn">Disabled</span>'
        baseline = dashboard_cell(
            getattr(client, "baseline_assignment", None),
            provider_id=provider.pk,
            baseline_url=baseline_url,
        )
        edit = (
            f'<a href="{edit_url(client.pk)}" aria-label="Edit {name}">Edit</a>'
            if can_rename
            else ""
        )
        rows.append(
            mark_safe(  # noqa: S308 (every value escaped here or in dashboard_cell)
                "<tr>"
                f'<td><a href="{overview_url(client.pk)}">{name}</a>{disabled}'
                f'<br><small class="hint">{escape(client.get_plan_display())}</small></td>'
                f'<td class="num{" warn" if client.seats_used > client.seats else ""}">'
                f"{client.seats_used:,} of {client.seats:,}</td>"
                f"<td>{client.confirmed:,} confirmed{_members_note(client)}</td>"
                f'<td class="num">{client.pending_invitations:,}</td>'
                f'<td class="num">{client.policies_enabled:,}{baseline}</td>'
                f'<td class="num{" warn" if client.without_two_step else ""}">'
                f"{client.without_two_step:,}</td>"
                f"<td>{_last_activity(client)}</td>"
                f"<td>{edit}</td>"
                "</tr>"
            )
        )
    return rows


# Figures are written as the `intcomma` filter writes them in the portal's one locale
# (en-us): `f"{n:,}"`.


def _members_note(client: Organization) -> str:
    """Under the confirmed members: those waiting for an admin, invited and revoked."""
    parts = []
    if client.accepted:
        parts.append(f'<span class="warn">{client.accepted:,} to confirm</span>')
    if client.invited:
        parts.append(f"{client.invited:,} invited")
    if client.revoked:
        parts.append(f"{client.revoked:,} revoked")
    return f'<br><small class="hint">{" · ".join(parts)}</small>' if parts else ""


def _last_activity(client: Organization) -> str:
    """As the `date` and `naturaltime` filters would write it, with the minute in a title."""
    if not client.last_activity:
        return '<span class="hint">none</span>'
    local = timezone.localtime(client.last_activity)
    return (
        f'<time datetime="{escape(local.isoformat())}" title="{local:%Y-%m-%d %H:%M}">'
        f"{escape(naturaltime(client.last_activity))}</time>"
    )
