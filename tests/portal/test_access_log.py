"""The web server's access log holds no usable secret token.

Invitation and set-password links carry their token in the query string of one request
(see test_secret_links.py); gunicorn, configured by gunicorn.conf.py, logs each request's
path without its query string and without the Referer.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from gunicorn.app.base import Application
from gunicorn.config import Config
from gunicorn.glogging import Logger

from tests.child_django import ROOT, child_env, run_django

TOKEN = "k2Jd9-secret-token-Xq81vT0aLw3mZp6sYf4NcR7uHe5bGi2oKj"
GUNICORN_COMMAND = '["gunicorn", "--config", "gunicorn.conf.py", "portal.wsgi:application"]'


class _ProjectConfig(Application):
    """Reads gunicorn.conf.py as `gunicorn --config gunicorn.conf.py` does; serves nothing."""

    def load_config(self):
        self.load_config_from_file(str(ROOT / "gunicorn.conf.py"))

    def load(self):
        raise NotImplementedError


def access_line(cfg: Config, log_file: Path, *, path: str, query: str, referer: str) -> str:
    """The line gunicorn's own Logger writes for one request, with `cfg`'s format."""
    cfg.set("accesslog", str(log_file))
    logger = Logger(cfg)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{path}?{query}",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": "Mail/1.0",
    }
    response = SimpleNamespace(status="302 Found", sent=0, headers=[("Location", "/x/")])
    request = SimpleNamespace(headers=[("HOST", "portal.example.com"), ("REFERER", referer)])
    logger.access(response, request, environ, timedelta(milliseconds=12))
    for handler in logger.access_log.handlers:
        handler.flush()
    return log_file.read_text()


@pytest.mark.parametrize(
    "path, query",
    [
        ("/invitations/open/", f"token={TOKEN}"),
        ("/accounts/set-password/", f"uid=MQ&token={TOKEN}"),
    ],
)
def test_the_configured_format_leaves_the_token_out(tmp_path, path, query):
    # An old browser or mail client may send the link itself as Referer.
    referer = f"https://portal.example.com{path}?{query}"
    line = access_line(
        _ProjectConfig().cfg, tmp_path / "a.log", path=path, query=query, referer=referer
    )
    assert f'"GET {path} HTTP/1.1" 302' in line
    assert TOKEN not in line
    # The same request with gunicorn's default format would give the token away.
    default_line = access_line(Config(), tmp_path / "b.log", path=path, query=query, referer="-")
    assert TOKEN in default_line


def test_the_container_runs_gunicorn_with_the_project_config():
    dockerfile = (ROOT / "Dockerfile").read_text()
    compose = (ROOT / "docker-compose.yml").read_text()
    assert [line for line in dockerfile.splitlines() if line.startswith("CMD")] == [
        f"CMD {GUNICORN_COMMAND}"
    ]
    assert f"command: {GUNICORN_COMMAND}" in compose
    for text in (dockerfile, compose):
        assert "--access-log" not in text  # no flag overriding the configured log


SETUP = """
import json
from clients.models import MemberRole
from portal.accounts import set_password_url
from portal.services import invitation_issue_token
from tests import factories

invitation = factories.InvitationFactory(
    membership__email="boss@new.test", membership__role=MemberRole.OWNER
)
user = factories.UserFactory(email="pat@acme.test")
print(json.dumps({
    "invitation_token": invitation_issue_token(invitation=invitation),
    "set_password_link": set_password_url(user),
}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, target: str, cookie: str = "") -> tuple[http.client.HTTPResponse, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", target, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response, response.read().decode()
    finally:
        connection.close()


def _session_cookie(response: http.client.HTTPResponse) -> str:
    cookies = [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or []]
    return next(c for c in cookies if c.startswith("sessionid="))


def _wait_until_serving(port: int, server: subprocess.Popen, output: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, output.read_text()
        try:
            if _get(port, "/healthz/")[0].status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start:\n" + output.read_text())


def test_gunicorn_writes_no_token_of_a_followed_link(tmp_path):
    """The real thing: gunicorn with gunicorn.conf.py, both links followed as a browser does,
    then everything gunicorn wrote (access and error log) is read."""
    db = tmp_path / "portal.sqlite3"
    links = json.loads(run_django(SETUP, db).strip().splitlines()[-1])
    password_link = urlsplit(links["set_password_link"])
    password_token = password_link.query.split("token=")[1]
    port = _free_port()
    output = tmp_path / "gunicorn.log"
    with output.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
            + ["portal.wsgi:application"],
            cwd=ROOT,
            env=child_env(db, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_serving(port, server, output)
        opened, _ = _get(port, f"/invitations/open/?token={links['invitation_token']}")
        assert opened.status == 302, output.read_text()
        assert opened.getheader("Location") == "/invitations/accept/"
        assert opened.getheader("Referrer-Policy") == "no-referrer"
        page, body = _get(port, "/invitations/accept/", _session_cookie(opened))
        assert page.status == 200 and "Accept your invitation" in body

        opened, _ = _get(port, f"{password_link.path}?{password_link.query}")
        assert opened.status == 302
        form_url = opened.getheader("Location")
        assert form_url.endswith("/set-password/") and password_token not in form_url
        page, body = _get(port, form_url, _session_cookie(opened))
        assert page.status == 200 and "Set your password" in body
    finally:
        server.terminate()
        server.wait(timeout=30)
    written = output.read_text()
    assert '"GET /invitations/open/ HTTP/1.1" 302' in written
    assert '"GET /invitations/accept/ HTTP/1.1" 200' in written
    assert '"GET /accounts/set-password/ HTTP/1.1" 302' in written
    assert links["invitation_token"] not in written
    assert password_token not in written
