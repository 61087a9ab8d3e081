"""In a real Chromium: a provider admin imports a file into a client, watches the job page
refresh itself (no JavaScript) until the bar is full, and sees counts only; the owner then
finds the items in the vault.

The worker is a thread started a moment after the upload, so the page is seen queued first.
"""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest
from django.db import connections

from clients.models import MemberRole
from providers.models import ProviderRole
from tests import factories
from tests.browsing import click_and_load
from tests.vault.conftest import give_keys
from vault.imports import services

from .conftest import as_json, bitwarden_org_export

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")),
        reason="Chromium is not installed (Debian: apt-get install chromium)",
    ),
]

MARKER = "QZXVMARKER"


def test_a_provider_admin_imports_and_the_owner_finds_the_items(
    browser_login, live_server, monkeypatch, tmp_path
):
    from playwright.sync_api import expect

    provider = factories.ProviderFactory(name="Browser MSP")
    org = factories.OrganizationFactory(name="Browser Client", provider=provider)
    give_keys(org)
    owner = factories.UserFactory(email="owner@browser-client.test")
    factories.MembershipFactory(org=org, user=owner, role=MemberRole.OWNER)
    staff = factories.ProviderUserFactory(provider=provider, role=ProviderRole.ADMIN).user
    workers = []

    def run_later(job_id: str) -> None:
        def work():
            time.sleep(2.5)
            try:
                services.import_job_run(job_id=job_id)
            finally:
                connections.close_all()

        workers.append(threading.Thread(target=work))
        workers[-1].start()

    monkeypatch.setattr(services, "_enqueue", run_later)
    export = bitwarden_org_export()
    export["items"][0]["name"] = f"{MARKER} bank"
    path = tmp_path / "bitwarden_export.json"
    path.write_bytes(as_json(export))

    page = browser_login(staff)
    page.goto(f"{live_server.url}/orgs/{org.pk}/")
    click_and_load(page, "text=Import data")
    page.set_input_files("#id_file", str(path))
    click_and_load(page, "button:has-text('Import')")
    assert page.locator("#import-status").inner_text() in ("Queued", "Running")
    assert page.locator("meta[http-equiv=refresh]").count() == 1
    # The page reloads itself every two seconds (a meta refresh) until the job is done.
    expect(page.locator("#import-status")).to_have_text("Done", timeout=20_000)
    assert page.locator("#import-progress").get_attribute("value") == "100"
    body = page.content()
    assert "Login" in body and "Finance/Banking" in body
    assert MARKER not in body
    for worker in workers:
        worker.join(timeout=10)

    owner_page = browser_login(owner)
    owner_page.goto(f"{live_server.url}/orgs/{org.pk}/vault/")
    assert f"{MARKER} bank" in owner_page.content()
