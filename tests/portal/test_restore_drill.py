"""A backup restores: the README's recipe (pg_dump, then pg_restore into a new database),
and `verify_vault` on the copy opens everything with the vault key file, and refuses,
saying why, without it or with another one."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.child_django import ROOT
from tests.scratch_services import (
    postgres_tools_or_skip,
    postgres_url_or_skip,
    scratch_database,
)

pytestmark = pytest.mark.postgres


def _kek(kek_id: str) -> str:
    return f"{kek_id}:" + base64.b64encode(os.urandom(32)).decode()


def production_env(database_url: str, keks: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "VAULT_", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.base",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="portal.drill.test",
        DATABASE_URL=database_url,
        VAULT_KEKS=keks,
        VAULT_KEKS_FILE="",
        EMAIL_URL="dummymail://",
        DEMO_PASSWORD="drill-" + secrets.token_urlsafe(12),
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def succeeded(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


BITWARDEN_EXPORT = {
    "encrypted": False,
    "folders": [],
    "items": [
        {
            "type": 1,
            "name": f"Imported login {n}",
            "login": {"username": f"user{n}", "password": f"drill-secret-{n}", "uris": []},
        }
        for n in range(3)
    ],
}


def test_a_dump_restores_and_verifies_only_with_the_vault_keys(tmp_path):
    base_url = postgres_url_or_skip()
    postgres_tools_or_skip("pg_dump", "pg_restore")
    keks = _kek("drill1")
    dump = tmp_path / "portal.dump"
    with scratch_database(base_url, "drill_src") as source:
        env = production_env(source, keks)
        succeeded(manage(env, "migrate", "--noinput"))
        # A few orgs with items, made through the services (the demo seeds every item type),
        # and an import, which seals a data key of its own.
        succeeded(manage(env, "seed_demo"))
        org_id = succeeded(
            manage(
                env,
                "shell",
                "-c",
                "from clients.models import Organization; "
                "print(Organization.objects.get(name='Client B').pk)",
            )
        ).split()[-1]
        export = tmp_path / "export.json"
        export.write_text(json.dumps(BITWARDEN_EXPORT))
        succeeded(manage(env, "import_vault", "--org", org_id, str(export)))
        before = succeeded(manage(env, "verify_vault"))
        # The README's recipe: pg_dump's custom format, one consistent snapshot.
        subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", source], check=True)

    with scratch_database(base_url, "drill_restored") as restored:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)],
            check=True,
        )
        with_keys = succeeded(manage(production_env(restored, keks), "verify_vault"))
        counts = re.search(r"Checked (\d+) orgs, (\d+) data keys, (\d+) items\.", with_keys)
        assert counts and int(counts.group(1)) >= 3 and int(counts.group(3)) >= 10, with_keys
        assert counts.group(0) in before  # the same rows as before the dump
        assert "Every value opened." in with_keys

        # Without a key file the portal refuses to start, and says why.
        without = manage(production_env(restored, ""), "verify_vault")
        assert without.returncode != 0
        assert "the vault has no usable key-encryption key" in without.stderr.splitlines()[-1]

        # With another key (a new machine, the wrong file): nothing opens, and it says so.
        wrong = manage(production_env(restored, _kek("other1")), "verify_vault")
        assert wrong.returncode != 0
        assert "cannot open org" in wrong.stderr
        assert "needs key-encryption key 'drill1', which is not configured" in wrong.stderr
        assert "values failed to open" in wrong.stderr
        assert "drill-secret" not in wrong.stdout + wrong.stderr


def _readme() -> str:
    return Path(ROOT / "README.md").read_text()


def test_the_readme_says_what_to_back_up():
    readme = _readme()
    assert "## Backups" in readme
    assert "pg_dump --format=custom" in readme
    assert "pg_restore" in readme and "verify_vault" in readme
