"""Production settings: `check --deploy` is clean, and insecure settings refuse to start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "p" + "Zq8-vL3_xT9wR2yK6mN1bV5cF0hJ4gD7sA" * 2


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "VAULT_KEKS"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="portal.settings.base",
        PORTAL_DATA_DIR="/tmp/portal-settings-test",
        **env,
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "DEBUG": "false",
        "SECRET_KEY": STRONG_KEY,
        "ALLOWED_HOSTS": "portal.example.com",
        "VAULT_KEKS": "k1:" + "A" * 43 + "=",
    }
    env.update(overrides)
    return env


@pytest.mark.skipif(not (ROOT / "manage.py").exists(), reason="needs the project checkout")
class TestDeploySettings:
    def test_check_deploy_is_clean(self):
        result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_development_secret_key_refuses_to_start(self):
        env = production_env()
        del env["SECRET_KEY"]
        result = run_manage("check", **env)
        assert result.returncode != 0
        assert "SECRET_KEY is a development or weak key" in result.stderr

    def test_short_secret_key_refuses_to_start(self):
        result = run_manage("check", **production_env(SECRET_KEY="short-but-not-insecure"))
        assert result.returncode != 0
        assert "SECRET_KEY" in result.stderr

    def test_empty_allowed_hosts_refuses_to_start(self):
        result = run_manage("check", **production_env(ALLOWED_HOSTS=""))
        assert result.returncode != 0
        assert "ALLOWED_HOSTS is empty" in result.stderr

    def test_debug_mode_starts_with_development_defaults(self):
        result = run_manage("check", DEBUG="true")
        assert result.returncode == 0, result.stderr


def test_security_headers_on_pages(client, db):
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_scripts(client, db):
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert "<script>" not in html and " onclick=" not in html


def test_celery_speaks_json_only():
    from portal.celery import app

    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
