"""A process that cannot run says what is wrong in one line and exits non-zero: a missing
or wrong vault key file, an unreachable database or broker, for manage.py, gunicorn (the
web service's command) and the Celery worker."""

from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from portal.logging_startup import PREFIX
from tests.child_django import ROOT

VENV_BIN = Path(sys.executable).parent


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the socket is


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "VAULT_", "CELERY_"))
    }
    key_file = tmp_path / "vault-keks.txt"
    key_file.write_text("k1:" + base64.b64encode(os.urandom(32)).decode() + "\n")
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.base",
        PORTAL_DATA_DIR=str(tmp_path / "data"),
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="portal.example.com",
        VAULT_KEKS="",
        VAULT_KEKS_FILE=str(key_file),
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def run(command: list[str], env: dict, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def refusal(result: subprocess.CompletedProcess) -> str:
    """The one line of a refusal, after checking there is nothing else."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(PREFIX)]
    assert len(lines) == 1, result.stderr
    return lines[0]


MANAGE = [sys.executable, "manage.py", "check"]


def test_the_configuration_used_below_starts(tmp_path):
    result = run(MANAGE, production_env(tmp_path))
    assert result.returncode == 0, result.stderr


def test_a_missing_key_file(tmp_path):
    missing = tmp_path / "nowhere" / "keks.txt"
    line = refusal(run(MANAGE, production_env(tmp_path, VAULT_KEKS_FILE=str(missing))))
    assert "no usable key-encryption key" in line and str(missing) in line


@pytest.mark.parametrize(
    "content, reason",
    [
        ("k1:not-base64!!\n", "not valid base64"),
        ("", "no key-encryption keys configured"),
        ("k1:" + base64.b64encode(b"short").decode(), "decodes to 5 bytes; expected exactly 32"),
    ],
)
def test_a_wrong_key_file(tmp_path, content, reason):
    key_file = tmp_path / "wrong.txt"
    key_file.write_text(content)
    line = refusal(run(MANAGE, production_env(tmp_path, VAULT_KEKS_FILE=str(key_file))))
    assert "no usable key-encryption key" in line and reason in line
    if content:
        assert content.split(":", 1)[1].strip() not in line  # the key itself is not echoed


def test_an_unreachable_database(tmp_path):
    env = production_env(
        tmp_path, DATABASE_URL=f"postgres://portal@127.0.0.1:{_closed_port()}/portal"
    )
    line = refusal(run([sys.executable, "manage.py", "migrate", "--noinput"], env))
    assert "the database does not answer" in line and "Check DATABASE_URL" in line


def test_gunicorn_stops_instead_of_restarting_workers_that_cannot_boot(tmp_path):
    env = production_env(
        tmp_path,
        VAULT_KEKS_FILE=str(tmp_path / "missing.txt"),
        GUNICORN_BIND=f"127.0.0.1:{_closed_port()}",
        WEB_CONCURRENCY="1",
    )
    command = [str(VENV_BIN / "gunicorn"), "--config", "gunicorn.conf.py"]
    result = run([*command, "portal.wsgi:application"], env)
    assert result.returncode == 3  # gunicorn's "worker failed to boot": it halts
    assert "Traceback" not in result.stderr
    assert f"{PREFIX}DEBUG is off but the vault has no usable key-encryption key" in result.stderr


def test_the_worker_with_a_missing_key_file(tmp_path):
    env = production_env(tmp_path, VAULT_KEKS_FILE=str(tmp_path / "missing.txt"))
    line = refusal(run([str(VENV_BIN / "celery"), "-A", "portal", "worker"], env))
    assert "no usable key-encryption key" in line


def test_the_worker_with_an_unreachable_broker(tmp_path):
    env = production_env(
        tmp_path,
        REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0",
        CELERY_BROKER_CONNECTION_MAX_RETRIES="0",
    )
    result = run([str(VENV_BIN / "celery"), "-A", "portal", "worker", "--pool=solo"], env)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert "Unrecoverable error: OperationalError('Error 111 connecting to 127.0.0.1" in output
