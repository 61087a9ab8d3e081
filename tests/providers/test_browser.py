"""A provider admin creates a client; its owner accepts the emailed invitation in a second
browser; the client shows on the dashboard with its confirmed owner."""

import os

import pytest
from django.core import mail

from clients.models import Membership, MemberStatus
from providers.models import ProviderRole
from tests import factories
from tests.browsing import click_and_load

from .helpers import accept_url_from_outbox

# Playwright's sync API runs an event loop in this thread; the ORM calls here are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_provider_creates_a_client_and_its_owner_accepts(
    browser, browser_login, live_server, settings
):
    settings.PORTAL_BASE_URL = live_server.url
    provider = factories.ProviderFactory(name="Browser MSP")
    admin = factories.ProviderUserFactory(provider=provider, role=ProviderRole.ADMIN).user

    page = browser_login(admin)
    assert page.url.endswith(f"/providers/{provider.pk}/")
    click_and_load(page, "text=New client")
    page.fill("input[name=name]", "Fresh Client")
    page.select_option("select[name=plan]", "enterprise")
    page.fill("input[name=seats]", "12")
    page.fill("input[name=owner_email]", "owner@fresh.test")
    click_and_load(page, "button:has-text('Create client')")
    assert "Client Fresh Client created" in page.locator(".messages").inner_text()
    assert mail.outbox[-1].to == ["owner@fresh.test"]

    owner_context = browser.new_context()
    try:
        owner_page = owner_context.new_page()
        owner_page.goto(accept_url_from_outbox())
        assert "Fresh Client" in owner_page.content()
        owner_page.fill("input[name=password1]", "a long new passphrase")
        owner_page.fill("input[name=password2]", "a long new passphrase")
        click_and_load(owner_page, "button:has-text('Accept invitation')")
        assert owner_page.locator("h1").inner_text() == "Fresh Client"
    finally:
        owner_context.close()
    owner = Membership.objects.get(email="owner@fresh.test")
    assert owner.status == MemberStatus.CONFIRMED

    page.reload()
    row = page.locator("table.list tr", has_text="Fresh Client")
    cells = row.locator("td").all_inner_texts()
    # Seats used of assigned; members by status in one cell: the owner is confirmed.
    assert cells[:3] == ["Fresh Client\nEnterprise", "1 of 12", "1 confirmed"]


def test_dashboard_fits_a_1280_pixel_wide_screen(browser, browser_login, live_server):
    """Every column readable without scrolling sideways, even with long client names."""
    provider = factories.ProviderFactory(name="Wide MSP")
    admin = factories.ProviderUserFactory(provider=provider, role=ProviderRole.ADMIN).user
    for n in range(3):
        org = factories.OrganizationFactory(
            name=f"Northwind Traders International Holdings {n}", seats=250, provider=provider
        )
        for status in [MemberStatus.CONFIRMED] * 3 + [MemberStatus.INVITED, "accepted", "revoked"]:
            factories.MembershipFactory(org=org, status=status)
    page = browser_login(admin)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/providers/{provider.pk}/")
    # Neither the page nor the table's own scroll box scrolls sideways.
    for box in ("main", ".table-scroll"):
        widths = page.evaluate(
            f"[document.querySelector('{box}').scrollWidth, "
            f"document.querySelector('{box}').clientWidth]"
        )
        assert widths[0] <= widths[1], (box, widths)
    members = page.locator("table.list tbody tr").first.locator("td").nth(2).inner_text()
    assert members == "3 confirmed\n1 to confirm · 1 invited · 1 revoked"


def test_dashboard_table_scrolls_within_its_box_on_a_narrow_screen(
    browser, browser_login, live_server
):
    """At 820 px the table does not fit: it scrolls inside its own box, nothing is cut off
    and the page itself does not scroll sideways; headers stay on one line."""
    provider = factories.ProviderFactory(name="Narrow MSP")
    admin = factories.ProviderUserFactory(provider=provider, role=ProviderRole.ADMIN).user
    factories.OrganizationFactory(
        name="Northwind Traders International Holdings", seats=250, provider=provider
    )
    page = browser_login(admin)
    page.set_viewport_size({"width": 820, "height": 900})
    page.goto(f"{live_server.url}/providers/{provider.pk}/")
    box = page.evaluate(
        "(() => { const b = document.querySelector('.table-scroll');"
        " return [b.scrollWidth, b.clientWidth, getComputedStyle(b).overflowX]; })()"
    )
    assert box[2] == "auto"
    page_widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert page_widths[0] <= page_widths[1], page_widths
    # The last column is reachable by scrolling the box.
    page.evaluate("document.querySelector('.table-scroll').scrollLeft = 10000")
    assert page.locator("table.list th").last.is_visible()
    heights = page.evaluate(
        "Array.from(document.querySelectorAll('table.list thead th')).map(th => th.clientHeight)"
    )
    assert max(heights) == min(heights), heights  # no header wraps onto a second line
