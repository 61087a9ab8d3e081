"""The production stack, as docker-compose.yml runs it, started as local processes.

The commands of the migrate, web, worker and beat services and the web healthcheck are
read from docker-compose.yml itself, so the file cannot drift from what is tested. They
run with production settings (DEBUG off, a strong secret key, a real vault key, collected
static files) on a fresh PostgreSQL database and a Redis database number of their own.
Email goes to files (EMAIL_URL=filemail://), written by the worker process.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.child_django import ROOT
from tests.scratch_services import postgres_url_or_skip, redis_url_or_skip, scratch_database

pytestmark = pytest.mark.stack

HOST = "portal.stack.test"
ADMIN_EMAIL = "admin@msp.stack.test"
ADMIN_PASSWORD = "stack-" + secrets.token_urlsafe(16)
OWNER_EMAIL = "owner@client.stack.test"
# The image's data directory (Dockerfile: PORTAL_DATA_DIR=/data), mapped to a temp dir.
IMAGE_DATA_DIR = "/data"


def compose() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_command(service: str, data_dir: Path) -> list[str]:
    command = compose()["services"][service]["command"]
    assert isinstance(command, list), f"{service}: write the command as a list"
    return [arg.replace(IMAGE_DATA_DIR + "/", f"{data_dir}/") for arg in command]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(*, database_url: str, redis_url: str, data_dir: Path, port: int) -> dict:
    """The compose services' environment, with the machine's database and broker, plus what
    an operator's .env holds. Nothing of the developer's .env leaks in: every variable it
    may set is set here."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "VAULT_", "EMAIL_"))
    }
    env.update({k: str(v) for k, v in compose()["x-portal"]["environment"].items()})
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
        # The Dockerfile's ENV.
        DJANGO_SETTINGS_MODULE="portal.settings.base",
        PORTAL_DATA_DIR=str(data_dir),
        # The operator's .env.
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        PORTAL_BASE_URL=f"https://{HOST}",
        BEHIND_TLS_PROXY="true",
        VAULT_KEKS="stack1:" + base64.b64encode(os.urandom(32)).decode(),
        VAULT_KEKS_FILE="",
        EMAIL_URL=f"filemail:///{data_dir / 'mail'}",
        LOG_FORMAT="json",
        # Process sizes and the port, for two shared cores.
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        INVITATION_REMINDERS_EVERY_SECONDS="2",
        INVITATION_EXPIRY_EVERY_SECONDS="2",
    )
    return env


def manage(env: dict, *args: str, timeout: int = 120, extra_env: dict | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**env, **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"manage.py {args[0]}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def started(name: str, command: list[str], env: dict, logs: Path) -> Iterator[Process]:
    log = logs / f"{name}.log"
    with log.open("w") as out:
        popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    process = Process(name, popen, log)
    try:
        yield process
    finally:
        if popen.poll() is None:
            popen.kill()
            popen.wait(timeout=10)


def stop(process: Process) -> int:
    process.popen.send_signal(signal.SIGTERM)
    try:
        return process.popen.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{process.name} ignored SIGTERM:\n{process.output()}") from None


@dataclass
class Browser:
    """Just enough of a browser behind the TLS proxy: cookies, the proxy's headers."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict | None = None):
        from urllib.parse import urlencode

        headers = {"Host": HOST, "X-Forwarded-Proto": "https"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://{HOST}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";")[0].partition("=")
            self.cookies[name] = value
        return response, content

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, form: dict):
        return self.request("POST", path, form)


def wait_for(what: str, check, *, timeout: float, processes: list[Process]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            assert process.popen.poll() is None, f"{process.name} exited:\n{process.output()}"
        result = check()
        if result:
            return result
        time.sleep(0.3)
    logs = "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in processes)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def mails_to(mail_dir: Path, address: str) -> list[str]:
    if not mail_dir.exists():
        return []
    texts = [path.read_text(errors="replace") for path in sorted(mail_dir.iterdir())]
    return [text for text in texts if f"To: {address}" in text]


def healthcheck(env: dict, port: int) -> subprocess.CompletedProcess:
    """The web service's compose healthcheck, as Docker would run it inside the container."""
    test = compose()["services"]["web"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    command = [arg.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for arg in test[1:]]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=10)


def csrf_form_fields(page: bytes) -> None:
    assert b'name="csrfmiddlewaretoken"' in page


def test_the_compose_stack_serves_mails_and_schedules(tmp_path):
    database_base = postgres_url_or_skip()
    redis_url = redis_url_or_skip()
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    port = _free_port()
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_database(database_base, "stack"))
        env = production_env(
            database_url=database_url, redis_url=redis_url, data_dir=data_dir, port=port
        )
        # The compose "migrate" service, then the image's collectstatic.
        migrate = compose_command("migrate", data_dir)
        assert migrate[:2] == ["python", "manage.py"]
        manage(env, *migrate[2:], timeout=180)
        manage(env, "collectstatic", "--noinput")
        assert (data_dir / "static" / "staticfiles.json").exists()
        manage(env, "createprovider", "Stack MSP", "--admin-email", ADMIN_EMAIL)
        manage(
            env,
            "shell",
            "-c",
            "import os; from portal.models import User; "
            f"u = User.objects.get(email='{ADMIN_EMAIL}'); "
            "u.set_password(os.environ['STACK_ADMIN_PASSWORD']); u.save()",
            extra_env={"STACK_ADMIN_PASSWORD": ADMIN_PASSWORD},
        )

        web = stack.enter_context(started("web", compose_command("web", data_dir), env, logs))
        worker = stack.enter_context(
            started("worker", compose_command("worker", data_dir), env, logs)
        )
        beat = stack.enter_context(started("beat", compose_command("beat", data_dir), env, logs))
        processes = [web, worker, beat]

        # /healthz/ answers the compose healthcheck (exit 0), sent with the allowed host.
        wait_for(
            "the web healthcheck",
            lambda: healthcheck(env, port).returncode == 0,
            timeout=60,
            processes=processes,
        )
        browser = Browser(port)

        # Static files: the login page links the collected, hashed stylesheet.
        response, page = browser.get("/accounts/login/")
        assert response.status == 200
        stylesheet = re.search(rb'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page)
        assert stylesheet, page[:2000]
        response, css = browser.get(stylesheet.group(1).decode())
        assert response.status == 200 and response.getheader("Content-Type").startswith("text/css")
        assert "max-age=315360000" in response.getheader("Cache-Control")

        # A provider admin signs in and creates a client.
        response, _ = browser.post(
            "/accounts/login/", {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert response.status == 302, web.output()[-3000:]
        response, page = browser.get("/")
        if response.status == 302:
            response, page = browser.get(response.getheader("Location"))
        provider_path = re.search(rb"/providers/[0-9a-f-]{36}/", page)
        assert provider_path, page[:3000]
        new_client = provider_path.group(0).decode() + "clients/new/"
        response, page = browser.get(new_client)
        assert response.status == 200
        csrf_form_fields(page)
        response, _ = browser.post(
            new_client,
            {"name": "Stack Client", "plan": "teams", "seats": "5", "owner_email": OWNER_EMAIL},
        )
        assert response.status == 302, web.output()[-3000:]
        create_request_id = response.getheader("X-Request-ID")

        # The worker, not the web process, sends the owner's invitation.
        mail_dir = data_dir / "mail"
        invitation = wait_for(
            "the invitation email",
            lambda: mails_to(mail_dir, OWNER_EMAIL),
            timeout=30,
            processes=processes,
        )[0]
        assert re.search(r"https://portal\.stack\.test/invitations/open/\?token=[\w-]+", invitation)
        assert "portal.tasks.send_invitation" in worker.output()

        # Beat runs the invitation reminders: make this one due (emailed 4 days ago).
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as connection:
            updated = connection.execute(
                "UPDATE portal_invitation SET expires_at = now() + interval '1 day' "
                "WHERE email = %s",
                [OWNER_EMAIL],
            ).rowcount
        assert updated == 1
        wait_for(
            "the reminder sent through beat and the worker",
            lambda: len(mails_to(mail_dir, OWNER_EMAIL)) >= 2,
            timeout=30,
            processes=processes,
        )
        assert "portal.tasks.send_invitation_reminders" in beat.output()

        # Beat runs the invitation-expiry job: once the owner's link has expired, the
        # client's log gets one "invitation expired" event, and later runs add none.
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(
                "UPDATE portal_invitation SET expires_at = now() - interval '1 minute' "
                "WHERE email = %s",
                [OWNER_EMAIL],
            )
        (expired,) = wait_for(
            "the expiry recorded through beat and the worker",
            lambda: expiry_events(database_url),
            timeout=30,
            processes=processes,
        )
        assert expired["email"] == OWNER_EMAIL and expired["recorded"]
        runs_then = len(expiry_runs(worker))
        wait_for(
            "two more runs of the expiry job",
            lambda: len(expiry_runs(worker)) >= runs_then + 2,
            timeout=30,
            processes=processes,
        )
        assert expiry_events(database_url) == [expired]
        assert "portal.tasks.record_expired_invitations" in beat.output()
        # The event names the task that wrote it, as the worker's log line does.
        assert expired["request_id"] in {run["task_id"] for run in expiry_runs(worker)}

        # Every process stops cleanly on SIGTERM, as `docker compose stop` sends it.
        exit_codes = {process.name: stop(process) for process in processes}
        assert exit_codes == {"web": 0, "worker": 0, "beat": 0}, {
            p.name: p.output()[-2000:] for p in processes
        }

        # LOG_FORMAT=json: one line per request and per task; the event keeps the request id.
        requests = json_lines(web.output(), "portal.request")
        (create_line,) = [line for line in requests if line["request_id"] == create_request_id]
        assert create_line["method"] == "POST" and create_line["path"] == new_client
        assert create_line["status"] == 302 and create_line["user_id"]
        with psycopg.connect(database_url) as connection:
            event_request_ids = connection.execute(
                "SELECT request_id FROM portal_event WHERE type = 'client.created'"
            ).fetchall()
        assert event_request_ids == [(create_request_id,)]
        sent = [
            line
            for line in json_lines(worker.output(), "portal.task")
            if line["task"] == "portal.tasks.send_invitation"
        ]
        assert sent and sent[0]["state"] == "SUCCESS" and sent[0]["task_id"]
        token = re.search(r"token=([\w-]+)", invitation).group(1)
        for process in processes:
            assert ADMIN_PASSWORD not in process.output()
            assert token not in process.output()


def expiry_events(database_url: str) -> list[dict]:
    """The "invitation expired" events in the clients' logs, with their invitation's mark."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT e.details->>'email', e.request_id, i.expiry_recorded_at IS NOT NULL "
            "FROM portal_event e JOIN portal_invitation i ON i.membership_id::text = e.object_id "
            "WHERE e.type = 'member.invitation_expired' AND e.org_id IS NOT NULL"
        ).fetchall()
    return [{"email": row[0], "request_id": row[1], "recorded": row[2]} for row in rows]


def expiry_runs(worker: Process) -> list[dict]:
    return [
        line
        for line in json_lines(worker.output(), "portal.task")
        if line["task"] == "portal.tasks.record_expired_invitations"
    ]


def json_lines(output: str, logger: str) -> list[dict]:
    import json

    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"time"')]
    return [line for line in lines if line["logger"] == logger]
