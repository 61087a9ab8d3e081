"""The dashboard's rows, written in Python (providers/dashboard_rows.py, and the baselines
app's cell in policies/baselines/cells.py): each branch of the markup, and escaping."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import reverse
from django.utils import timezone

from clients.models import Organization
from policies.models import Baseline, BaselineAssignment, PolicyType
from providers.dashboard_rows import dashboard_rows
from providers.models import Provider

from .helpers import provider_url

FIGURES = {
    "seats_used": 3,
    "seats": 10,
    "confirmed": 1200,
    "accepted": 0,
    "invited": 0,
    "revoked": 0,
    "pending_invitations": 0,
    "policies_enabled": 2,
    "without_two_step": 0,
    "last_activity": None,
}


def client_row(provider, *, can_rename=True, assignment=None, **figures) -> str:
    client = Organization(pk=uuid.uuid4(), name="Acme", plan="enterprise", enabled=True)
    for name, value in {**FIGURES, **figures}.items():
        setattr(client, name, value)
    if assignment is not None:
        assignment.org_id = client.pk
    given(client, assignment)
    (row,) = dashboard_rows(provider, [client], can_rename=can_rename)
    return row


def given(client: Organization, assignment: BaselineAssignment | None) -> None:
    """The client's baseline as `select_related` leaves it (None: no row, no query)."""
    Organization.baseline_assignment.related.set_cached_value(client, assignment)


@pytest.fixture
def provider():
    return Provider(pk=uuid.uuid4(), name="MSP")


def test_a_quiet_client_row(provider):
    row = client_row(provider)
    assert row.startswith('<tr><td><a href="/orgs/') and row.endswith("</tr>")
    assert '">Acme</a><br><small class="hint">Enterprise</small></td>' in row
    assert '<td class="num">3 of 10</td>' in row
    assert "<td>1,200 confirmed</td>" in row  # no note under it
    assert '<td class="num">0</td>' in row  # without two-step, no warning
    assert '<td><span class="hint">none</span></td>' in row  # no activity yet
    assert "Disabled" not in row and "warn" not in row


def test_warnings_notes_and_activity(provider):
    active = timezone.now() - timedelta(hours=3)
    row = client_row(
        provider,
        seats_used=11,
        accepted=2,
        invited=1234,
        revoked=1,
        without_two_step=4,
        last_activity=active,
    )
    assert '<td class="num warn">11 of 10</td>' in row
    assert (
        '1,200 confirmed<br><small class="hint"><span class="warn">2 to confirm</span>'
        " · 1,234 invited · 1 revoked</small>"
    ) in row
    assert '<td class="num warn">4</td>' in row
    local = timezone.localtime(active)
    assert (
        f'<time datetime="{local.isoformat()}" title="{local:%Y-%m-%d %H:%M}">'
        f"{naturaltime(active)}</time>"
    ) in row


def test_the_members_note_joins_only_what_there_is(provider):
    assert '<small class="hint">5 revoked</small>' in client_row(provider, revoked=5)
    assert '<small class="hint">1 invited · 5 revoked</small>' in client_row(
        provider, invited=1, revoked=5
    )


def test_a_disabled_client_and_the_edit_link(provider):
    client = Organization(pk=uuid.uuid4(), name="Off", plan="teams", enabled=False)
    for name, value in FIGURES.items():
        setattr(client, name, value)
    given(client, None)
    (row,) = dashboard_rows(provider, [client], can_rename=True)
    assert '">Off</a> <span class="badge warn">Disabled</span>' in row
    edit = reverse("provider_client_edit", args=[provider.pk, client.pk])
    assert f'<td><a href="{edit}" aria-label="Edit Off">Edit</a></td>' in row
    (row,) = dashboard_rows(provider, [client], can_rename=False)
    assert "Edit" not in row and row.endswith("<td></td></tr>")


def test_the_baseline_cell(provider):
    baseline = Baseline(pk=uuid.uuid4(), provider_id=provider.pk, name="Strict <b>")
    matching = client_row(provider, assignment=BaselineAssignment(baseline=baseline, drift=[]))
    assert (
        f'<td class="num">2<br><small><a href="/providers/{provider.pk}/baselines/clients/'
    ) in matching
    assert '">Strict &lt;b&gt;</a>: <span class="hint">matches</span></small></td>' in matching

    one = client_row(
        provider,
        assignment=BaselineAssignment(baseline=baseline, drift=[PolicyType.TWO_STEP_LOGIN]),
    )
    assert ': <span class="warn">1 policy differs: Require two-step login</span>' in one
    two = client_row(
        provider,
        assignment=BaselineAssignment(
            baseline=baseline, drift=[PolicyType.TWO_STEP_LOGIN, "<gone>"]
        ),
    )
    assert (
        ': <span class="warn">2 policies differ: Require two-step login, &lt;gone&gt;</span>'
    ) in two

    # A baseline of another provider (the client moved) is not this provider's to show.
    foreign = Baseline(pk=uuid.uuid4(), provider_id=uuid.uuid4(), name="Theirs")
    row = client_row(provider, assignment=BaselineAssignment(baseline=foreign, drift=[]))
    assert '<td class="num">2</td>' in row and "Theirs" not in row


@pytest.mark.django_db
def test_client_names_are_escaped_on_the_dashboard(world, login):
    world.org.name = "<script>alert('x')</script> & Co"
    world.org.save()
    content = (
        login(world.provider_admin)
        .get(provider_url("provider_dashboard", world.provider))
        .content.decode()
    )
    assert "<script>alert" not in content
    escaped = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co"
    assert f">{escaped}</a>" in content
    assert f'aria-label="Edit {escaped}"' in content
