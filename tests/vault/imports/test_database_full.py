"""A database that runs out of disk (or memory) during an import (issue 12, bad input).

Postgres itself raises the real error class: a trigger on the table being written raises
SQLSTATE 53100 (disk_full) or 53200 (out_of_memory) once a row is already in, so the
refusal comes mid-write, after some rows were written in the same transaction. The
trigger is DDL inside the test's transaction, and goes when it rolls back.

- The upload (web request): the import page says what is wrong, keeps the form, and
  nothing is half-written (no job, no chunk); the operator's log has one line.
- The worker: the job ends failed with a message, and no item, collection or data key
  of the import is left; the operator's log has one line.
"""

from __future__ import annotations

import logging

import pytest
from django.db import DatabaseError, connection
from django.urls import reverse

from portal.models import Event, EventType
from vault.imports import services, upload
from vault.models import DataKey, DataKeyPurpose, ImportJob, ImportStatus, ImportUploadChunk, Item

from .conftest import as_json, bitwarden_org_export, run_import
from .conftest import upload as uploaded_file
from .test_pages import MARKER, marked_export

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres to raise its own errors (set DATABASE_URL=postgres://...)",
    ),
]

DISK_FULL_TEXT = 'could not extend file "base/16384/24576": No space left on device'


def database_refuses(table: str, errcode: str, *, after_rows: int) -> None:
    """From now on (in this test's transaction), inserting into `table` raises `errcode`
    once `after_rows` rows are in it, as Postgres raises it when its disk fills up."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                IF (SELECT count(*) FROM {table}) >= {after_rows:d} THEN
                    RAISE EXCEPTION '{DISK_FULL_TEXT}' USING ERRCODE = '{errcode}';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_for_test BEFORE INSERT ON {table}
                FOR EACH ROW EXECUTE FUNCTION refuse_for_test();
            """
        )


def operator_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def post_import(client, org, data: bytes):
    return client.post(
        reverse("org_import", kwargs={"org_id": org.pk}),
        {"file": uploaded_file(data), "format": "bitwarden_json", "target": "from_file"},
    )


@pytest.mark.parametrize(
    ("errcode", "said", "logged"),
    [
        ("disk_full", "The server&#x27;s database is full", "has no disk space left"),
        ("out_of_memory", "The server&#x27;s database is overloaded", "is out of memory"),
    ],
)
def test_the_upload_page_says_the_database_is_full_and_writes_nothing(
    keyed_world, login, caplog, monkeypatch, errcode, said, logged
):
    w = keyed_world
    monkeypatch.setattr(upload, "CHUNK_SIZE", 256)  # several chunks: the second is refused
    data = marked_export()
    assert len(data) > 3 * 256
    database_refuses("vault_importuploadchunk", errcode, after_rows=1)
    with caplog.at_level(logging.INFO):
        response = post_import(login(w.alice), w.org, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert said in page and "nothing was imported" in page
    assert "tell the portal&#x27;s operator" in page
    assert "Traceback" not in page and "SQLSTATE" not in page
    assert 'value="bitwarden_json" selected' in page  # the form keeps what was chosen
    # Nothing half-written: the first chunk went in, and was rolled back with the job.
    assert not ImportJob.objects.exists()
    assert not ImportUploadChunk.objects.exists()
    assert not Item.objects.filter(org=w.org).exists()
    # One line for the operator, naming the shortage in Postgres's own words.
    (line,) = operator_lines(caplog)
    message = line.getMessage()
    assert line.name == "vault.imports" and line.levelno == logging.ERROR
    assert message.startswith("import upload refused: the database " + logged)
    assert DISK_FULL_TEXT in message and "\n" not in message
    assert MARKER not in message


def test_the_same_upload_goes_through_when_the_database_has_room(keyed_world, login, monkeypatch):
    """The trigger itself: below its threshold it lets rows in (so the test above fails for
    the full database, not for the trigger)."""
    w = keyed_world
    monkeypatch.setattr(upload, "CHUNK_SIZE", 256)
    database_refuses("vault_importuploadchunk", "disk_full", after_rows=1000)
    response = post_import(login(w.alice), w.org, marked_export())
    assert response.status_code == 302
    assert ImportUploadChunk.objects.count() > 3


def test_other_database_errors_are_not_taken_for_a_full_disk(keyed_world, login):
    w = keyed_world
    database_refuses("vault_importuploadchunk", "internal_error", after_rows=0)
    with pytest.raises(DatabaseError):
        post_import(login(w.alice), w.org, marked_export())
    assert not ImportJob.objects.exists()


def test_a_full_database_while_the_worker_writes_items_fails_the_job(
    keyed_world, caplog, monkeypatch
):
    w = keyed_world
    monkeypatch.setattr(services, "BATCH_SIZE", 2)  # the first batch goes in, the second fails
    database_refuses("vault_item", "disk_full", after_rows=2)
    with caplog.at_level(logging.INFO):
        job = run_import(w.alice, w.org, as_json(bitwarden_org_export()))
    assert job.status == ImportStatus.FAILED
    assert job.failure_message.startswith("The server's database is full")
    assert "nothing was imported" in job.failure_message
    assert job.finished_at is not None
    # The first batch of items, the collections named in the file and the import's data
    # key were written in the job's transaction, and were rolled back with it.
    assert not Item.objects.filter(org=w.org).exists()
    assert not w.org.collections.filter(name__startswith="Finance").exists()
    assert not DataKey.objects.filter(org=w.org, purpose=DataKeyPurpose.IMPORT).exists()
    assert not ImportUploadChunk.objects.filter(job=job).exists()
    assert not Event.objects.filter(type=EventType.IMPORT_COMPLETED).exists()
    (line,) = operator_lines(caplog)
    assert line.name == "vault.imports" and line.levelno == logging.ERROR
    assert line.getMessage() == (
        f"Import {job.pk} failed: the database has no disk space left "
        f"(SQLSTATE 53100: {DISK_FULL_TEXT})."
    )
