"""Logs an operator can use: one line per request and per task, with an id that the event
log keeps too; JSON with LOG_FORMAT=json, text by default; no secret in any line."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core import mail
from django.test import Client, RequestFactory, TestCase
from django.urls import reverse

from clients.models import MemberStatus
from portal.logging_config import (
    ContextFilter,
    JsonFormatter,
    RequestLogMiddleware,
    current_request_id,
    logging_settings,
)
from portal.models import Event, EventType
from portal.services import invitation_create
from tests import factories
from tests.vault.conftest import give_keys
from tests.vault.helpers import form_post, vault_url
from tests.vault.imports.conftest import as_json, bitwarden_org_export, run_import, upload
from vault.models import Item

pytestmark = pytest.mark.django_db

ITEM_NAME = "Zq7 payroll bank"
ITEM_PASSWORD = "Zq7-item-pa55word"
IMPORT_MARKER = "Zq7IMPORTED"
EXPORT_FILE_PASSWORD = "Zq7-file-pa55word"


@contextmanager
def captured_logs(log_format: str = "json") -> Iterator[io.StringIO]:
    """Every logger at DEBUG, into one handler formatted as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(_text_format())
    )
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.propagate, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.propagate = True
        logger.disabled = False
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)
        for logger, level, propagate, disabled in saved:
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled


def _text_format() -> str:
    return logging_settings(log_format="text", level="INFO")["formatters"]["portal"]["format"]


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def request_lines(stream: io.StringIO) -> list[dict]:
    return [line for line in json_lines(stream) if line["logger"] == "portal.request"]


def test_a_full_flow_leaves_no_secret_in_the_logs(world):
    """Sign in, invite, create an item, reveal and copy it, import, export: with every
    logger at DEBUG, no password, token, cookie, item name or item value is written."""
    w = world
    give_keys(w.org)
    client = Client()
    with captured_logs() as logs:
        login_page = client.get(reverse("login"))
        assert login_page.status_code == 200
        signed_in = client.post(
            reverse("login"), {"username": w.alice.email, "password": factories.TEST_PASSWORD}
        )
        assert signed_in.status_code == 302

        membership = factories.MembershipFactory(
            org=w.org, user=None, email="new@example.test", status=MemberStatus.INVITED
        )
        with TestCase.captureOnCommitCallbacks(execute=True):
            invitation_create(email=membership.email, membership=membership)
        token = re.search(r"token=([\w-]+)", mail.outbox[-1].body).group(1)
        Client().get(f"/invitations/open/?token={token}")
        Client().get(f"/invitations/{token}/")  # the old form, with the token in the path

        created = client.post(
            vault_url("item_new", w.org, item_type="login"),
            form_post(
                "login",
                collections=[w.collection],
                name=ITEM_NAME,
                username="payroll",
                password=ITEM_PASSWORD,
                notes=f"notes of {ITEM_NAME}",
            ),
        )
        assert created.status_code == 302, created.content.decode()[:2000]
        item = Item.objects.get(pk=created.url.rstrip("/").rsplit("/", 1)[-1])
        revealed = client.post(vault_url("item_detail", w.org, item), {"field": "password"})
        assert ITEM_PASSWORD.encode() in revealed.content
        client.post(vault_url("item_copy", w.org, item))

        export = bitwarden_org_export()
        for entry in export["items"]:
            entry["name"] = f"{IMPORT_MARKER} {entry['name']}"
        export["items"][0]["login"]["password"] = IMPORT_MARKER + "-pw"
        form = {"file": upload(as_json(export)), "format": "", "target": "from_file"}
        with TestCase.captureOnCommitCallbacks(execute=True):
            imported = client.post(reverse("org_import", kwargs={"org_id": w.org.pk}), form)
        assert imported.status_code == 302

        exported = client.post(
            reverse("org_export", kwargs={"org_id": w.org.pk}),
            {
                "export_format": "bitwarden_encrypted_json",
                "account_password": factories.TEST_PASSWORD,
                "file_password": EXPORT_FILE_PASSWORD,
                "file_password_confirm": EXPORT_FILE_PASSWORD,
            },
        )
        assert exported.status_code == 200, exported.content[:2000]
        assert b"".join(exported.streaming_content)

    written = logs.getvalue()
    secrets = {
        "the account password": factories.TEST_PASSWORD,
        "the item's name": ITEM_NAME,
        "the item's password": ITEM_PASSWORD,
        "an imported value": IMPORT_MARKER,
        "the export file's password": EXPORT_FILE_PASSWORD,
        "the invitation token": token,
        "the session cookie": client.cookies["sessionid"].value,
        "the CSRF cookie": client.cookies["csrftoken"].value,
    }
    leaked = [what for what, value in secrets.items() if value.lower() in written.lower()]
    assert not leaked, f"in the logs: {leaked}\n" + "\n".join(
        line for line in written.splitlines() if any(v in line for v in secrets.values())
    )
    # The scan is not vacuous: each step wrote its line.
    paths = [(line["method"], line["path"], line["status"]) for line in request_lines(logs)]
    assert ("POST", reverse("login"), 302) in paths
    assert ("GET", "/invitations/open/", 302) in paths
    assert ("GET", "/invitations/[masked]/") in [(m, p) for m, p, _status in paths]
    assert ("POST", vault_url("item_detail", w.org, item), 200) in paths
    assert ("POST", reverse("org_export", kwargs={"org_id": w.org.pk}), 200) in paths
    tasks = [line["task"] for line in json_lines(logs) if line["logger"] == "portal.task"]
    assert "portal.tasks.send_invitation" in tasks
    assert any(task.startswith("vault.") for task in tasks), tasks


def test_one_json_line_per_request_with_its_id_in_the_events_it_wrote(world, login):
    client = login(world.alice)
    url = reverse("org_overview", kwargs={"org_id": world.org.pk}) + "?q=secret-query-value"
    with captured_logs() as logs:
        response = client.get(url)
    assert response.status_code == 200
    (line,) = request_lines(logs)
    assert line["method"] == "GET"
    assert line["path"] == reverse("org_overview", kwargs={"org_id": world.org.pk})
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["user_id"] == str(world.alice.pk)
    assert line["request_id"] == response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert "secret-query-value" not in logs.getvalue()

    # A provider's first entry writes two events: both carry the request's id.
    provider_client = login(world.provider_admin)
    with captured_logs() as logs:
        response = provider_client.get(reverse("org_overview", kwargs={"org_id": world.org.pk}))
    request_id = response["X-Request-ID"]
    entries = Event.objects.filter(request_id=request_id)
    assert {e.type for e in entries} == {
        EventType.ORG_ACCESSED_BY_PROVIDER,
        EventType.CLIENT_ACCESSED,
    }
    assert [line["request_id"] for line in request_lines(logs)] == [request_id]


def test_each_request_gets_a_new_id_and_none_leaks_out_of_it(world, login):
    client = login(world.alice)
    first = client.get("/healthz/")["X-Request-ID"]
    second = client.get("/healthz/")["X-Request-ID"]
    assert first != second
    assert current_request_id.get() is None


def test_one_line_per_task_with_its_id_in_the_events_it_wrote(world):
    """A task outside any request (as in the worker): its line and its events share its id."""
    give_keys(world.org)
    with captured_logs() as logs:
        job = run_import(world.alice, world.org, as_json(bitwarden_org_export()))
    task_lines = [
        line
        for line in json_lines(logs)
        if line["logger"] == "portal.task" and line["task"].startswith("vault.")
    ]
    assert len(task_lines) == 1, json_lines(logs)
    task_line = task_lines[0]
    assert task_line["state"] == "SUCCESS"
    assert isinstance(task_line["duration_ms"], float)
    assert "request_id" not in task_line
    completed = Event.objects.get(type=EventType.IMPORT_COMPLETED, object_id=str(job.pk))
    assert completed.request_id == task_line["task_id"]


def test_text_is_the_default_format_and_names_the_request(rf: RequestFactory, world):
    import os

    from django.conf import settings

    if "LOG_FORMAT" not in os.environ:
        assert settings.LOG_FORMAT == "text"
    handler = logging_settings(log_format="json", level="INFO")["handlers"]["console"]
    assert handler["filters"] == ["context"]  # the ids and the masking, in both formats
    with captured_logs(log_format="text") as logs:
        request = rf.get("/healthz/?token=abc")
        request.user = world.alice
        response = RequestLogMiddleware(lambda r: _ok())(request)
    line = logs.getvalue().strip()
    rid = response["X-Request-ID"]
    assert f"INFO portal.request [request={rid}] GET /healthz/ 200 " in line
    assert f"user={world.alice.pk}" in line
    assert "token=abc" not in line


def _ok():
    from django.http import HttpResponse

    return HttpResponse("ok")


def test_an_unknown_log_format_is_refused(monkeypatch):
    import subprocess
    import sys

    from tests.child_django import ROOT

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "portal.settings.test",
            "LOG_FORMAT": "xml",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT is 'text' (the default) or 'json'." in result.stderr
