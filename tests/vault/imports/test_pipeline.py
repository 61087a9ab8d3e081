"""The import pipeline end to end: encrypted upload, job, worker, all-or-nothing, the sweep."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import TestCase
from django.utils import timezone

from clients.models import Collection, MemberRole, Membership
from portal.access import resolve
from portal.models import Event, EventType
from vault.imports import services, upload
from vault.imports.services import (
    ImportRefused,
    import_job_create,
    import_job_run,
    import_jobs_fail_stale,
    progress_key,
)
from vault.keys import DecryptionFailed
from vault.models import (
    DataKey,
    DataKeyPurpose,
    Favorite,
    ImportJob,
    ImportStatus,
    ImportUploadChunk,
    Item,
)

from .conftest import (
    as_json,
    bitwarden_org_export,
    opened_items,
    run_import,
)
from .conftest import (
    upload as uploaded_file,
)

pytestmark = pytest.mark.django_db


def logins(count: int, *, name: str = "Site") -> bytes:
    items = [
        {"type": 1, "name": f"{name} {n}", "login": {"username": f"u{n}", "password": f"p{n}"}}
        for n in range(count)
    ]
    return as_json({"encrypted": False, "items": items})


def test_an_owner_imports_every_item_type_with_every_field(keyed_world):
    w = keyed_world
    Collection.objects.create(org=w.org, name="Finance")  # reused by name, not created again
    job = run_import(w.alice, w.org, as_json(bitwarden_org_export()))
    assert job.status == ImportStatus.SUCCEEDED, job.failure_message
    assert job.counts == {"login": 1, "secure_note": 1, "card": 1, "identity": 1, "ssh_key": 1}
    assert job.collections_created == ["Finance/Banking"]
    assert job.row_errors == [] and job.detected_format == "bitwarden_json"
    items = opened_items(w.org)
    bank, bank_row = items["Bank login"]
    assert bank.fields == {
        "username": "alice",
        "password": "s3cret-Pa55",
        "totp": "JBSWY3DPEHPK3PXP",
    }
    assert [(u.uri, u.match) for u in bank.uris] == [
        ("https://bank.example/login", "default"),
        ("https://bank.example", "host"),
    ]
    assert bank.notes == "login notes"
    assert [(f.name, f.kind, f.value) for f in bank.custom_fields] == [
        ("Branch", "text", "Main street"),
        ("PIN", "hidden", "pin-4q21-zx"),
        ("Business", "boolean", "true"),
    ]  # the linked field (type 3) points at another field: nothing of its own
    assert [(p.password, p.changed_at) for p in bank.password_history] == [
        ("old-Pa55-1", "2024-01-02T03:04:05.000Z")
    ]
    assert bank_row.reprompt is True
    assert [c.name for c in bank_row.collections.all()] == ["Finance/Banking"]
    assert Favorite.objects.filter(user=w.alice, item=bank_row).exists()
    card, card_row = items["Company card"]
    assert card.fields == {
        "cardholder_name": "Alice Example",
        "brand": "Visa",
        "number": "4111111111111111",
        "exp_month": "07",
        "exp_year": "2031",
        "code": "123",
    }
    assert [c.name for c in card_row.collections.all()] == ["Finance"]
    identity, identity_row = items["Alice identity"]
    assert identity.fields["passport_number"] == "X1234567"
    assert identity.fields["title"] == "Dr" and identity.fields["postal_code"] == "62701"
    assert list(identity_row.collections.all()) == []  # none named: unassigned, as in Bitwarden
    ssh, _ = items["Deploy key"]
    assert ssh.fields["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert (
        ssh.fields["fingerprint"].startswith("SHA256:")
        and "ignored" not in ssh.fields["fingerprint"]
    )
    assert items["Alarm code"][0].notes == "1234 then #"
    # Written under a fresh data key of its own, for imports.
    data_keys = {row.data_key_id for _, row in items.values()}
    assert data_keys == {job.data_key_id}
    assert DataKey.objects.get(pk=job.data_key_id).purpose == DataKeyPurpose.IMPORT
    event = Event.objects.get(type=EventType.IMPORT_COMPLETED, org=w.org)
    assert event.actor == w.alice and event.object_id == str(job.pk)
    assert event.details["items"] == 5 and event.details["collections_created"] == 1


def test_a_provider_import_never_unwraps_the_org_private_key(keyed_world):
    w = keyed_world
    refuse = mock.Mock(side_effect=AssertionError("the org private key was unwrapped"))
    with (
        mock.patch("vault.crypto.unwrap_org_private_key", refuse),
        mock.patch("vault.keys.unwrap_org_private_key", refuse),
    ):
        job = run_import(w.provider_admin, w.org, as_json(bitwarden_org_export()))
    assert refuse.call_count == 0
    assert job.status == ImportStatus.SUCCEEDED, job.failure_message
    assert job.acting_provider == w.provider and job.created_by == w.provider_admin
    assert job.imported_total == 5
    assert not Favorite.objects.filter(user=w.provider_admin).exists()
    event = Event.objects.get(type=EventType.IMPORT_COMPLETED, org=w.org)
    assert event.acting_provider == w.provider
    # The owner, with the org's private key, reads what the provider wrote.
    assert opened_items(w.org)["Bank login"][0].get("password") == "s3cret-Pa55"


def test_a_service_user_imports_write_only_too(keyed_world):
    w = keyed_world
    refuse = mock.Mock(side_effect=AssertionError("the org private key was unwrapped"))
    with mock.patch("vault.keys.unwrap_org_private_key", refuse):
        job = run_import(w.service_user, w.org, logins(3))
    assert job.status == ImportStatus.SUCCEEDED and job.imported_total == 3
    assert refuse.call_count == 0


def test_a_failure_midway_leaves_no_item_of_the_import(keyed_world, monkeypatch):
    w = keyed_world
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    flush = services._BatchWriter.flush
    calls = []

    def flush_then_fail(writer):
        calls.append(len(writer.items))
        if len(calls) == 2:
            raise RuntimeError("database went away")
        flush(writer)

    monkeypatch.setattr(services._BatchWriter, "flush", flush_then_fail)
    export = bitwarden_org_export()
    job = run_import(w.alice, w.org, as_json(export))
    assert calls[0] == 2  # the first batch was written, inside the transaction
    assert job.status == ImportStatus.FAILED
    assert "nothing was imported" in job.failure_message
    assert not Item.objects.filter(org=w.org).exists()
    assert not Collection.objects.filter(org=w.org, name__startswith="Finance").exists()
    assert not DataKey.objects.filter(org=w.org, purpose=DataKeyPurpose.IMPORT).exists()
    assert not ImportUploadChunk.objects.filter(job=job).exists()
    assert not Event.objects.filter(type=EventType.IMPORT_COMPLETED).exists()


def test_the_upload_is_stored_encrypted_in_chunks_and_deleted_at_the_end(keyed_world, monkeypatch):
    w = keyed_world
    monkeypatch.setattr(upload, "CHUNK_SIZE", 64)
    data = logins(5, name="QZXVMARKER")
    actor = resolve(w.alice, w.org)
    job = import_job_create(
        actor=actor, org=w.org, upload=uploaded_file(data), format_key="", collection=None
    )
    chunks = list(ImportUploadChunk.objects.filter(job=job).order_by("index"))
    assert len(chunks) == -(-len(data) // 64) > 2
    assert all(b"QZXVMARKER" not in bytes(c.ciphertext) for c in chunks)
    assert b"QZXVMARKER" not in bytes(job.upload_key_wrapped)
    assert job.upload_size == len(data)
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.SUCCEEDED and job.imported_total == 5
    assert not ImportUploadChunk.objects.filter(job=job).exists()
    assert cache.get(progress_key(job.pk)) is None


@pytest.mark.parametrize("tamper", ["swap", "truncate", "other_job"])
def test_chunks_cannot_be_reordered_cut_short_or_moved(keyed_world, monkeypatch, tamper):
    w = keyed_world
    monkeypatch.setattr(upload, "CHUNK_SIZE", 64)
    actor = resolve(w.alice, w.org)
    job = import_job_create(
        actor=actor, org=w.org, upload=uploaded_file(logins(4)), format_key="", collection=None
    )
    chunks = list(ImportUploadChunk.objects.filter(job=job).order_by("index"))
    if tamper == "swap":
        first, second = bytes(chunks[0].ciphertext), bytes(chunks[1].ciphertext)
        ImportUploadChunk.objects.filter(pk=chunks[0].pk).update(ciphertext=second)
        ImportUploadChunk.objects.filter(pk=chunks[1].pk).update(ciphertext=first)
    elif tamper == "truncate":
        chunks[-1].delete()
    else:
        other = import_job_create(
            actor=actor, org=w.org, upload=uploaded_file(logins(4)), format_key="", collection=None
        )
        theirs = ImportUploadChunk.objects.get(job=other, index=0).ciphertext
        ImportUploadChunk.objects.filter(pk=chunks[0].pk).update(ciphertext=theirs)
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED
    assert "could not be read back" in job.failure_message
    assert not Item.objects.filter(org=w.org).exists()
    assert not ImportUploadChunk.objects.filter(job=job).exists()


def test_a_chunk_opens_only_as_itself():
    import os
    import uuid

    from vault.keys import decrypt_upload_chunk, encrypt_upload_chunk

    key, org_id, job_id = os.urandom(32), uuid.uuid4(), uuid.uuid4()
    where = {"upload_key": key, "org_id": org_id, "job_id": job_id}
    blob = encrypt_upload_chunk(b"data", index=3, last=False, **where)
    assert decrypt_upload_chunk(blob, index=3, last=False, **where) == b"data"
    for index, last in ((2, False), (3, True)):
        with pytest.raises(DecryptionFailed):
            decrypt_upload_chunk(blob, index=index, last=last, **where)


def test_a_file_above_the_size_limit_is_refused_before_it_is_read(keyed_world, settings):
    w = keyed_world
    settings.VAULT_IMPORT_MAX_BYTES = 100
    big = mock.Mock(size=101)
    actor = resolve(w.alice, w.org)
    with pytest.raises(ImportRefused, match="larger than"):
        import_job_create(actor=actor, org=w.org, upload=big, format_key="", collection=None)
    big.chunks.assert_not_called()
    assert not ImportJob.objects.exists()


def test_an_upload_that_brings_more_than_it_announced_is_refused(keyed_world, settings):
    w = keyed_world
    settings.VAULT_IMPORT_MAX_BYTES = 100
    lying = mock.Mock(size=10)
    lying.chunks.return_value = iter([b"x" * 60, b"x" * 60, b"x" * 60])
    actor = resolve(w.alice, w.org)
    with pytest.raises(ImportRefused, match="larger than"):
        import_job_create(actor=actor, org=w.org, upload=lying, format_key="", collection=None)
    assert not ImportJob.objects.exists() and not ImportUploadChunk.objects.exists()


def test_more_items_than_the_limit_imports_nothing(keyed_world, settings):
    w = keyed_world
    settings.VAULT_IMPORT_MAX_ITEMS = 3
    job = run_import(w.alice, w.org, logins(4))
    assert job.status == ImportStatus.FAILED
    assert "more than 3 items" in job.failure_message
    assert not Item.objects.filter(org=w.org).exists()


def test_a_file_of_another_format_than_chosen_is_refused(keyed_world):
    w = keyed_world
    job = run_import(w.alice, w.org, logins(2), format_key="chrome_csv")
    assert job.status == ImportStatus.FAILED
    assert "does not look like a Chrome / Edge (.csv) export" in job.failure_message
    assert not Item.objects.filter(org=w.org).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some text\nnot an export\n", "could not tell which program"),
        (b"\x00\x01\x02binary\x00", "NUL bytes"),
    ],
)
def test_a_file_no_format_recognises_is_refused(keyed_world, data, message):
    w = keyed_world
    job = run_import(w.alice, w.org, data)
    assert job.status == ImportStatus.FAILED and message in job.failure_message


def test_an_empty_file_is_refused(keyed_world):
    w = keyed_world
    with pytest.raises(ImportRefused, match="empty"):
        run_import(w.alice, w.org, b"")
    assert not ImportJob.objects.exists()


def test_everything_goes_into_one_chosen_collection(keyed_world):
    w = keyed_world
    job = run_import(w.alice, w.org, as_json(bitwarden_org_export()), collection=w.collection)
    assert job.status == ImportStatus.SUCCEEDED
    assert job.collections_created == []
    assert not Collection.objects.filter(org=w.org, name__startswith="Finance").exists()
    for _content, row in opened_items(w.org).values():
        assert list(row.collections.all()) == [w.collection]


def test_a_collection_of_another_org_is_refused(keyed_world):
    w = keyed_world
    with pytest.raises(ImportRefused, match="collection of this organization"):
        run_import(w.alice, w.org, logins(1), collection=w.other_collection)


def test_a_chosen_collection_deleted_before_the_run_fails_the_job(keyed_world):
    w = keyed_world
    actor = resolve(w.alice, w.org)
    job = import_job_create(
        actor=actor,
        org=w.org,
        upload=uploaded_file(logins(1)),
        format_key="",
        collection=w.collection,
    )
    w.collection.delete()
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED and "was deleted" in job.failure_message


def test_an_importer_who_lost_access_before_the_run_imports_nothing(keyed_world):
    w = keyed_world
    actor = resolve(w.org_admin, w.org)
    job = import_job_create(
        actor=actor, org=w.org, upload=uploaded_file(logins(1)), format_key="", collection=None
    )
    Membership.objects.filter(org=w.org, user=w.org_admin).update(role=MemberRole.USER)
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED and "no longer import" in job.failure_message
    assert not Item.objects.filter(org=w.org).exists()


def test_a_job_runs_once(keyed_world):
    w = keyed_world
    job = run_import(w.alice, w.org, logins(2))
    assert import_job_run(job_id=job.pk) is None  # a redelivered message changes nothing
    assert Item.objects.filter(org=w.org).count() == 2


def test_rows_that_break_a_rule_are_skipped_and_listed(keyed_world):
    w = keyed_world
    export = {
        "encrypted": False,
        "items": [
            {"type": 1, "name": "ok", "login": {"username": "u"}},
            {"type": 1, "name": "x" * 300, "login": {}},
            {"type": 9, "name": "unknown type"},
            {"type": 1, "name": "bad login", "login": "not an object"},
            "not an item",
        ],
    }
    job = run_import(w.alice, w.org, as_json(export))
    assert job.status == ImportStatus.SUCCEEDED
    assert job.imported_total == 1 and job.row_error_count == 4
    reasons = {error["where"]: error["reason"] for error in job.row_errors}
    assert set(reasons) == {"item 2", "item 3", "item 4", "item 5"}
    assert "300 characters" in reasons["item 2"] and "x" * 20 not in reasons["item 2"]
    assert "'login' should be a JSON object" in reasons["item 4"]


def test_the_sweep_fails_jobs_whose_worker_died(keyed_world):
    w = keyed_world
    actor = resolve(w.alice, w.org)

    def running_job(heartbeat_age: float | None) -> ImportJob:
        job = import_job_create(
            actor=actor,
            org=w.org,
            upload=uploaded_file(logins(1)),
            format_key="",
            collection=None,
        )
        started = timezone.now() - timedelta(minutes=10)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, started_at=started)
        if heartbeat_age is not None:
            cache.set(progress_key(job.pk), {"heartbeat": time.time() - heartbeat_age})
        return job

    dead = running_job(heartbeat_age=600)
    no_heartbeat = running_job(heartbeat_age=None)
    alive = running_job(heartbeat_age=5)
    assert import_jobs_fail_stale() == 2
    for job in (dead, no_heartbeat):
        job.refresh_from_db()
        assert job.status == ImportStatus.FAILED and "interrupted" in job.failure_message
        assert job.finished_at is not None
        assert not ImportUploadChunk.objects.filter(job=job).exists()
    alive.refresh_from_db()
    assert alive.status == ImportStatus.RUNNING
    assert ImportUploadChunk.objects.filter(job=alive).exists()


def test_the_sweep_fails_jobs_never_picked_up(keyed_world):
    w = keyed_world
    actor = resolve(w.alice, w.org)
    job = import_job_create(
        actor=actor, org=w.org, upload=uploaded_file(logins(1)), format_key="", collection=None
    )
    fresh = import_job_create(
        actor=actor, org=w.org, upload=uploaded_file(logins(1)), format_key="", collection=None
    )
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert import_jobs_fail_stale() == 1
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "never started" in job.failure_message
    assert fresh.status == ImportStatus.QUEUED


def test_a_job_given_up_by_the_sweep_while_it_ran_is_rolled_back(keyed_world, monkeypatch):
    w = keyed_world
    actor = resolve(w.alice, w.org)
    job = import_job_create(
        actor=actor, org=w.org, upload=uploaded_file(logins(2)), format_key="", collection=None
    )
    claim = services._claim

    def claim_then_sweep(job_id):
        claimed = claim(job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.FAILED, failure_message=services.INTERRUPTED
        )
        return claimed

    monkeypatch.setattr(services, "_claim", claim_then_sweep)
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED and job.failure_message == services.INTERRUPTED
    assert not Item.objects.filter(org=w.org).exists()


def test_the_beat_schedule_runs_the_sweep(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["vault-fail-stale-imports"]
    assert schedule["task"] == "vault.tasks.fail_stale_imports"
    assert schedule["schedule"] <= 120


def test_the_task_takes_the_job_id_only(keyed_world):
    w = keyed_world
    actor = resolve(w.alice, w.org)
    with (
        mock.patch("vault.tasks.run_import.delay") as delay,
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        job = import_job_create(
            actor=actor,
            org=w.org,
            upload=uploaded_file(logins(1, name="QZXVMARKER")),
            format_key="",
            collection=None,
        )
    delay.assert_called_once_with(str(job.pk))
    from vault.tasks import run_import as task

    assert task.acks_late is False


def test_no_plaintext_reaches_the_database_the_cache_or_the_logs(keyed_world, caplog, monkeypatch):
    from tests.vault.test_no_plaintext import as_text, every_raw_value

    w = keyed_world
    marker = "QZXVMARKER"
    export = bitwarden_org_export()
    export["collections"] = []  # collection names are plain by design; keep them out of it
    for item in export["items"]:
        item["name"] = f"{marker} {item['name']}"
        item["notes"] = f"{marker} notes"
        item["collectionIds"] = []
    export["items"][0]["login"]["password"] = marker
    export["items"].append({"type": 1, "name": marker * 30, "login": {"password": marker}})
    seen_cache = []
    original_set = cache.set
    monkeypatch.setattr(
        cache,
        "set",
        lambda key, value, *a, **k: (seen_cache.append(value), original_set(key, value, *a, **k)),
    )
    with caplog.at_level("DEBUG"):
        job = run_import(w.provider_admin, w.org, json.dumps(export).encode())
    assert job.status == ImportStatus.SUCCEEDED and job.row_error_count == 1
    found = {
        table for table, value in every_raw_value() if marker.lower() in as_text(value).lower()
    }
    assert not found, f"plain text found in {sorted(found)}"
    assert marker.lower() not in caplog.text.lower()
    assert seen_cache and marker not in json.dumps(seen_cache)
    assert Item.objects.filter(org=w.org).count() == 5


def test_a_password_protected_export_is_opened_with_its_password(keyed_world):
    from .test_encrypted_json import protected_file

    w = keyed_world
    plain = json.dumps(bitwarden_org_export())
    data = protected_file("pw-123456", plain=plain)
    actor = resolve(w.provider_admin, w.org)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = import_job_create(
            actor=actor,
            org=w.org,
            upload=uploaded_file(data),
            format_key="",
            collection=None,
            file_password="pw-123456",
        )
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED and job.imported_total == 5
    assert job.format == "bitwarden_json"
    with pytest.raises(ImportRefused, match="password is wrong"):
        import_job_create(
            actor=actor,
            org=w.org,
            upload=uploaded_file(data),
            format_key="",
            collection=None,
            file_password="wrong-password",
        )
    assert ImportJob.objects.count() == 1
    # Without the password: the job says what to do.
    job = run_import(w.alice, w.org, data)
    assert job.status == ImportStatus.FAILED and "type its file password" in job.failure_message
