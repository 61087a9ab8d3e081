"""Accessibility (WCAG 2.2 AA) in a real Chromium, checked with axe-core.

Each demo role signs in once and walks every page it can reach by following links from
where it lands: every page gets axe-core's WCAG 2.0–2.2 A and AA rules at 1280 px and at
320 px, and at 320 px it must not scroll sideways (reflow, 1.4.10). Pages the other issues
add are reached the same way as soon as a link leads to them.

The keyboard tests use the skip link, and check where focus lands after a form comes back
with errors and after Reveal.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import Resolver404, resolve

from tests import factories
from tests.browsing import click_and_load

# Playwright's sync API runs an event loop in this thread; the ORM calls here are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
    },
    "resultTypes": ["violations"],
    # No iframes here; and not fetching the stylesheets again for each run saves time.
    "iframes": False,
    "preload": False,
}
DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 640}
# The demo's people: one of each role the issue names, and the custom role and service user.
ROLES = {
    "owner": "owner@client-a.test",
    "admin": "admin@client-a.test",
    "user": "alice@client-a.test",
    "custom role": "carol@client-a.test",  # manage users, access event logs
    "provider admin": "provider-admin@demo.test",
    "service user": "service-user@demo.test",
}
# Pages of one route that differ in what they show (item types): a few each, others once.
PAGES_PER_ROUTE = {"vault_item_detail": 3, "vault_item_edit": 2, "provider_user_detail": 2}
# How many pages each role reaches at least (a walk that stops early fails).
MIN_PAGES = {
    "owner": 30,
    "admin": 30,
    "user": 12,
    "custom role": 12,
    "provider admin": 30,
    "service user": 20,
}
NEVER_FOLLOW = {"logout", "login"}
# Another page of rows, or another order: the same page for this walk.
SAME_PAGE_QUERY_KEYS = {"page", "sort", "dir"}


@pytest.fixture
def demo(db):
    from portal.demo import seed_demo

    seed_demo(password=factories.TEST_PASSWORD)


@pytest.fixture
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def sign_in(browser, base_url: str, email: str):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", factories.TEST_PASSWORD)
    click_and_load(page, "button[type=submit]")
    return context, page


def page_key(url: str) -> tuple[str, frozenset[str]] | None:
    """What makes two URLs the same page for this walk: the route and the query's keys."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if match.url_name in NEVER_FOLLOW or (match.url_name or "").startswith("admin"):
        return None
    keys = frozenset(key for key, _ in parse_qsl(parts.query)) - SAME_PAGE_QUERY_KEYS
    return match.url_name or parts.path, keys


# Beyond axe: every aria-describedby names ids that exist, and every set of checkboxes or
# radios (two or more of one name in one form, outside a table's rows) is a named group.
PAGE_RULES = """() => {
  const problems = [];
  for (const element of document.querySelectorAll("[aria-describedby]")) {
    for (const id of element.getAttribute("aria-describedby").split(/\\s+/).filter(Boolean)) {
      if (!document.getElementById(id)) {
        const tag = element.outerHTML.slice(0, 80);
        problems.push(`aria-describedby of ${tag} names no element: ${id}`);
      }
    }
  }
  const sets = new Map();
  for (const input of document.querySelectorAll("input[type=checkbox], input[type=radio]")) {
    if (input.closest("table")) continue;
    const key = `${input.form ? input.form.action : ""}|${input.name}`;
    sets.set(key, (sets.get(key) || []).concat([input]));
  }
  for (const [key, inputs] of sets) {
    if (inputs.length < 2) continue;
    for (const input of inputs) {
      const group = input.closest("fieldset");
      const legend = group && group.querySelector(":scope > legend");
      if (!legend || !legend.textContent.trim()) {
        problems.push(`${input.type} ${input.name} is not in a <fieldset> with a <legend>`);
        break;
      }
    }
  }
  return problems;
}"""


@dataclass
class Findings:
    pages: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    too_wide: list[str] = field(default_factory=list)


def check_page(page, axe, label: str, findings: Findings) -> None:
    findings.violations += [f"{label}: {problem}" for problem in page.evaluate(PAGE_RULES)]
    page.evaluate(axe.axe_script)
    for viewport in (DESKTOP, NARROW):
        page.set_viewport_size(viewport)
        results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        for violation in results["violations"]:
            targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
            findings.violations.append(
                f"{label} at {viewport['width']} px: {violation['id']} "
                f"({violation['help']}) on {targets}"
            )
        if viewport is NARROW:
            widths = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if widths[0] > widths[1]:
                findings.too_wide.append(f"{label}: {widths[0]} px wide in a 320 px viewport")
    page.set_viewport_size(DESKTOP)


def walk(page, axe, base_url: str, role: str, findings: Findings) -> None:
    """Visit every page reachable by links from the landing page, each kind once."""
    seen: dict[tuple, int] = {}
    queue = [page.url]
    visited: set[str] = set()
    while queue:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        key = page_key(url)
        if key is None or seen.get(key, 0) >= PAGES_PER_ROUTE.get(key[0], 1):
            continue
        seen[key] = seen.get(key, 0) + 1
        response = page.goto(url)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        path = urlsplit(page.url)
        label = f"{role}: {path.path}{'?' + path.query if path.query else ''}"
        if response.status >= 500:
            findings.violations.append(f"{label}: answered {response.status}")
        findings.pages.append(label)
        check_page(page, axe, label, findings)
        for href in page.eval_on_selector_all(
            "a[href]:not([download])", "links => links.map(link => link.href)"
        ):
            href = href.split("#")[0]
            if href.startswith(base_url) and href not in visited:
                queue.append(href)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_passes_axe_and_fits_320_pixels(
    role, demo, browser, live_server, axe
):
    findings = Findings()
    context, page = sign_in(browser, live_server.url, ROLES[role])
    try:
        walk(page, axe, live_server.url, role, findings)
    finally:
        context.close()
    print("\n".join(findings.pages))
    assert len(findings.pages) > MIN_PAGES[role], findings.pages  # the walk really went around
    assert not findings.violations, "\n".join(findings.violations)
    assert not findings.too_wide, "\n".join(findings.too_wide)


def test_the_signed_out_pages_pass_axe_and_fit_320_pixels(demo, browser, live_server, axe):
    findings = Findings()
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    # The login page, a secret link that cannot be used, its done page, the 404 page.
    for path in (
        "/accounts/login/",
        "/accounts/set-password/",
        "/accounts/set-password/done/",
        "/invitations/open/",
    ):
        page.goto(f"{live_server.url}{path}")
        check_page(page, axe, f"anonymous: {path}", findings)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "nobody@example.test")
    page.fill("input[name=password]", "wrong")
    click_and_load(page, "button[type=submit]")
    check_page(page, axe, "anonymous: login with an error", findings)
    context.close()
    assert not findings.violations, "\n".join(findings.violations)
    assert not findings.too_wide, "\n".join(findings.too_wide)


def focused(page) -> dict:
    """Where keyboard focus is. Chromium applies `autofocus` in a rendering step that may come
    after the load event, so this waits a moment for focus to leave <body> before it reads."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function("document.activeElement !== document.body", timeout=5_000)
    except PlaywrightTimeout:
        pass  # the assertion that follows names where focus is
    return page.evaluate(
        """() => {
          const element = document.activeElement;
          return {id: element.id, tag: element.tagName.toLowerCase(),
                  text: element.textContent.trim().slice(0, 200),
                  describedby: element.getAttribute("aria-describedby")};
        }"""
    )


def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_content(
    demo, browser, live_server
):
    context, page = sign_in(browser, live_server.url, ROLES["owner"])
    page.keyboard.press("Tab")
    assert focused(page) == {
        "id": "",
        "tag": "a",
        "text": "Skip to content",
        "describedby": None,
    }
    assert page.locator(".skip-link").is_visible()  # shown while focused
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    page.keyboard.press("Tab")  # the next stop is inside the content, past the navigation
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_after_a_form_error_focus_is_on_the_error_summary(javascript, demo, browser, live_server):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", ROLES["owner"])
    page.fill("input[name=password]", "not the password")
    click_and_load(page, "button[type=submit]")
    where = focused(page)
    assert where["id"] == "error-summary", where
    assert "Please enter a correct email and password" in where["text"]
    context.close()


def test_a_required_set_of_checkboxes_names_its_error_and_the_summary_takes_focus(
    demo, browser, live_server
):
    """The move page with nothing ticked: the set is a named group that points at its error,
    and the summary's link leads to the first checkbox."""
    from vault.models import Item

    context, page = sign_in(browser, live_server.url, ROLES["owner"])
    item = Item.objects.filter(org__name="Client A", collections__is_default=True).first()
    page.goto(f"{live_server.url}/orgs/{item.org_id}/vault/items/{item.pk}/move/")
    for box in page.locator("fieldset input[type=checkbox]").all():
        box.uncheck()
    click_and_load(page, "button.primary")
    assert focused(page)["id"] == "error-summary"
    group = page.locator("fieldset.choices")
    assert group.locator("legend").inner_text().strip()
    described_by = group.get_attribute("aria-describedby").split()
    assert len(described_by) == 2  # the help text and the error
    error = page.locator(f"#{described_by[-1]}").inner_text().strip()  # "at least one"
    assert error and error in page.locator("#error-summary").inner_text()
    page.locator("#error-summary a").first.click()
    assert focused(page)["tag"] == "input"
    context.close()


def test_after_reveal_focus_is_on_the_revealed_value(demo, browser, live_server):
    context, page = sign_in(browser, live_server.url, ROLES["owner"])
    click_and_load(page, "nav.sidebar >> text=Vault")
    click_and_load(page, "text=Office Wi-Fi router")
    masked = page.locator(".masked").first
    assert masked.inner_text().strip().endswith("hidden")
    assert masked.locator("[aria-hidden=true]").inner_text().startswith("•")
    click_and_load(page, "form.reveal button >> nth=0")
    where = focused(page)
    assert where["tag"] == "span" and where["id"].startswith("revealed-"), where
    assert where["text"] == "Demo-password-Office"
    context.close()


# Contrast of an element's border or text colour against the background behind it.
CONTRAST = """([selector, property]) => {
  const rgb = (value) => value.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const luminance = (value) => {
    const [r, g, b] = rgb(value).map((c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (element) => {
    for (let node = element.parentElement; node; node = node.parentElement) {
      const color = getComputedStyle(node).backgroundColor;
      if (color !== "rgba(0, 0, 0, 0)" && color !== "transparent") return color;
    }
    return "rgb(255, 255, 255)";
  };
  return [...document.querySelectorAll(selector)].map((element) => {
    const [a, b] = [luminance(getComputedStyle(element)[property]), luminance(background(element))];
    return [element.outerHTML.slice(0, 60), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}"""


def test_field_borders_and_the_favourite_star_have_enough_contrast(demo, browser, live_server):
    """1.4.11: a field's border 3:1 against what is around it (axe does not check borders);
    the star is text: 4.5:1."""
    context, page = sign_in(browser, live_server.url, ROLES["owner"])
    click_and_load(page, "nav.sidebar >> text=Vault")
    vault = page.url
    click_and_load(page, "text=Office Wi-Fi router")
    click_and_load(page, "text=Favourite")
    page.goto(vault)
    stars = page.evaluate(CONTRAST, [".star", "color"])
    assert stars and all(ratio >= 4.5 for _, ratio in stars), stars
    page.goto(vault + "new/login/")
    borders = page.evaluate(
        CONTRAST,
        [
            "main input:not([type=hidden]):not([type=checkbox]), main select, main textarea",
            "borderTopColor",
        ],
    )
    assert len(borders) > 3 and all(ratio >= 3 for _, ratio in borders), borders
    context.close()


def test_a_field_error_the_summary_links_to_the_field_that_names_its_message(
    demo, browser, live_server, axe
):
    from clients.models import Organization

    org = Organization.objects.get(name="Client A")
    context, page = sign_in(browser, live_server.url, ROLES["owner"])
    page.goto(f"{live_server.url}/orgs/{org.pk}/groups/new/")
    page.fill("input[name=name]", "   ")  # passes the browser's check, not the server's
    click_and_load(page, "button.primary")
    assert focused(page)["id"] == "error-summary"
    findings = Findings()
    check_page(page, axe, "owner: a new group with an error", findings)
    assert not findings.violations and not findings.too_wide, findings
    page.keyboard.press("Tab")
    assert focused(page)["tag"] == "a"  # the summary's link to the field
    page.keyboard.press("Enter")
    field = focused(page)
    assert field["id"] == "id_name"
    messages = [page.locator(f"#{id_}").inner_text() for id_ in field["describedby"].split()]
    assert any(message.strip() for message in messages), messages
    context.close()
