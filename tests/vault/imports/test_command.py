"""manage.py import_vault: the same pipeline, run in-process, printing counts only."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from portal.models import Event, EventType
from vault.models import ImportJob, ImportStatus, ImportUploadChunk, Item

from .conftest import as_json, bitwarden_org_export

pytestmark = pytest.mark.django_db

MARKER = "QZXVMARKER"


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_vault", *args, stdout=out)
    return out.getvalue()


def test_the_operator_imports_a_file_and_sees_counts_only(keyed_world, tmp_path):
    w = keyed_world
    export = bitwarden_org_export()
    export["items"][0]["login"]["password"] = MARKER
    export["items"][1]["name"] = MARKER
    export["items"].append({"type": 1, "name": MARKER * 30})
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    output = run("--org", str(w.org.pk), str(path))
    assert "Done" in output and "Items imported: 5" in output
    assert "Login: 1" in output and "SSH key: 1" in output
    assert "Collections created: Finance/Banking, Finance" in output
    assert "item 6: The name is 300 characters long" in output
    assert MARKER not in output
    job = ImportJob.objects.get()
    assert job.created_by is None and job.status == ImportStatus.SUCCEEDED
    assert not ImportUploadChunk.objects.exists()
    event = Event.objects.get(type=EventType.IMPORT_COMPLETED)
    assert event.org == w.org and event.actor is None


def test_into_one_collection_with_a_chosen_format(keyed_world, tmp_path):
    w = keyed_world
    path = tmp_path / "chrome.csv"
    path.write_text("name,url,username,password,note\na,https://a.example,u,p,\n")
    output = run(
        "--org", str(w.org.pk), "--collection", "Shared", "--format", "chrome_csv", str(path)
    )
    assert "Items imported: 1" in output
    assert Item.objects.get(org=w.org).collections.get() == w.collection


def test_a_failed_import_is_an_error_with_its_reason(keyed_world, tmp_path):
    w = keyed_world
    path = tmp_path / "export.json"
    path.write_bytes(as_json(bitwarden_org_export())[:-20])
    with pytest.raises(CommandError, match="cut short"):
        run("--org", str(w.org.pk), str(path))
    assert not Item.objects.exists() and not ImportUploadChunk.objects.exists()


def test_bad_arguments(keyed_world, tmp_path):
    w = keyed_world
    with pytest.raises(CommandError, match="no collection named"):
        run("--org", str(w.org.pk), "--collection", "Nope", str(tmp_path / "x"))
    with pytest.raises(CommandError, match="No file"):
        run("--org", str(w.org.pk), str(tmp_path / "missing.json"))
    with pytest.raises(CommandError, match="UUID"):
        run("--org", "Alice Co", str(tmp_path / "x"))


def test_the_bench_file_and_run_work_at_a_small_size(keyed_world, tmp_path):
    from vault.imports import bench

    path = tmp_path / "bench.json"
    bench.write_export(path, 50)
    assert bench._here(keyed_world.org, path) > 0
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.SUCCEEDED and job.imported_total == 50
    assert len(job.collections_created) == 20
