"""manage.py export_vault: an owner's export written to a file of mode 600, counts printed."""

from __future__ import annotations

import io
import json
import stat

import pytest
from django.core.management import CommandError, call_command

from portal.models import Event, EventType
from vault.imports.formats.bitwarden_encrypted_json import decrypt_password_protected


def run(*args) -> str:
    out = io.StringIO()
    call_command("export_vault", *args, stdout=out)
    return out.getvalue()


def test_writes_the_owners_export_with_mode_600_and_prints_counts_only(export_world, tmp_path):
    target = tmp_path / "export.json"
    output = run("--org", str(export_world.org.pk), "--owner", "alice@example.test", str(target))
    assert "Exported 6 items (bitwarden_json)" in output
    assert "Bank login" not in output and "s3cret" not in output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    data = json.loads(target.read_text())
    assert len(data["items"]) == 6
    event = Event.objects.get(type=EventType.VAULT_EXPORTED)
    assert event.actor == export_world.alice and event.details["item_count"] == 6


def test_password_protected_with_a_password_file(export_world, tmp_path):
    secret = tmp_path / "pw.txt"
    secret.write_text("file-pass-123\n")
    target = tmp_path / "export.json"
    run(
        "--org",
        str(export_world.org.pk),
        "--owner",
        "alice@example.test",
        "--format",
        "bitwarden_encrypted_json",
        "--password-file",
        str(secret),
        str(target),
    )
    raw = target.read_bytes()
    assert b"s3cret-Pa55" not in raw
    assert len(json.loads(decrypt_password_protected(raw, "file-pass-123"))["items"]) == 6


@pytest.mark.parametrize(
    "owner, message",
    [
        ("bob@example.test", "may not export"),
        ("charlie@example.test", "not a confirmed member"),
        ("nobody@example.test", "not a confirmed member"),
    ],
)
def test_refuses_who_may_not_export(export_world, tmp_path, owner, message):
    target = tmp_path / "export.json"
    with pytest.raises(CommandError, match=message):
        run("--org", str(export_world.org.pk), "--owner", owner, str(target))
    assert not target.exists()
    assert not Event.objects.filter(type=EventType.VAULT_EXPORTED).exists()


def test_provider_staff_cannot_export(export_world, tmp_path):
    email = export_world.provider_admin.email
    with pytest.raises(CommandError, match="not a confirmed member"):
        run("--org", str(export_world.org.pk), "--owner", email, str(tmp_path / "x.json"))


def test_never_overwrites_and_needs_a_password_file(export_world, tmp_path):
    target = tmp_path / "export.json"
    target.write_text("keep me")
    with pytest.raises(CommandError, match="exists already"):
        run("--org", str(export_world.org.pk), "--owner", "alice@example.test", str(target))
    assert target.read_text() == "keep me"
    with pytest.raises(CommandError, match="needs --password-file"):
        run(
            "--org",
            str(export_world.org.pk),
            "--owner",
            "alice@example.test",
            "--format",
            "bitwarden_encrypted_json",
            str(tmp_path / "new.json"),
        )
    assert not (tmp_path / "new.json").exists()
