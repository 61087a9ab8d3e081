"""A full disk while an import upload arrives (issue 12, bad input): the import page says
what is wrong, nothing is half-written (no job, no chunks, no items), the temporary file is
given back, and the operator's log has one line. Other disk errors are not hidden."""

from __future__ import annotations

import errno
import logging
import tempfile

import pytest
from django.urls import reverse

from vault.imports.upload_handler import EncryptedTemporaryFileUploadHandler
from vault.models import ImportJob, ImportUploadChunk, Item

from .conftest import upload
from .test_pages import marked_export

pytestmark = pytest.mark.django_db


class _FillingFile:
    """A temporary file on a disk that fills up after `room` writes."""

    def __init__(self, real, room: int, errno_: int):
        self.real, self.room, self.errno = real, room, errno_

    def write(self, data):
        if self.room <= 0:
            raise OSError(self.errno, "No space left on device")
        self.room -= 1
        return self.real.write(data)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def disk(monkeypatch, settings):
    """Uploads past 1000 bytes go to the encrypted temporary file, whose disk fills up."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    # Pieces of 1 KiB, so that the disk can fill up mid-upload.
    monkeypatch.setattr(EncryptedTemporaryFileUploadHandler, "chunk_size", 1024)
    files = []
    real_temporary_file = tempfile.TemporaryFile

    def fill_after(room: int, errno_: int = errno.ENOSPC):
        def temporary_file(*args, **kwargs):
            files.append(_FillingFile(real_temporary_file(*args, **kwargs), room, errno_))
            return files[-1]

        monkeypatch.setattr(tempfile, "TemporaryFile", temporary_file)
        return files

    return fill_after


def post_import(client, org, data: bytes):
    return client.post(
        reverse("org_import", kwargs={"org_id": org.pk}),
        {"file": upload(data), "format": "bitwarden_json", "target": "from_file"},
    )


@pytest.mark.parametrize("room", [0, 1], ids=["at-the-first-piece", "mid-upload"])
def test_a_full_disk_refuses_the_upload_on_the_page_and_writes_nothing(
    keyed_world, login, disk, caplog, room
):
    w = keyed_world
    files = disk(room)
    data = marked_export()
    assert len(data) > 3 * 1024  # several pieces
    with caplog.at_level(logging.INFO):
        response = post_import(login(w.alice), w.org, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "disk is full" in page and "nothing was imported" in page
    assert "tell the portal&#x27;s operator" in page
    # What the user chose is kept.
    assert 'value="bitwarden_json" selected' in page
    # Nothing half-written.
    assert not ImportJob.objects.exists()
    assert not ImportUploadChunk.objects.exists()
    assert not Item.objects.filter(org=w.org).exists()
    # The temporary file was given back (closed: an anonymous file is then deleted).
    (spool,) = files
    assert spool.real.closed
    # One line for the operator, saying what is wrong; no content of the file in it.
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    message = lines[0].getMessage()
    assert lines[0].name == "vault.imports" and lines[0].levelno == logging.ERROR
    assert "no space left on the disk" in message and "\n" not in message
    assert "QZXVMARKER" not in message


def test_a_disk_quota_counts_as_a_full_disk(keyed_world, login, disk):
    w = keyed_world
    disk(0, errno.EDQUOT)
    response = post_import(login(w.alice), w.org, marked_export() * 3)
    assert response.status_code == 200 and "disk is full" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_other_disk_errors_are_not_taken_for_a_full_disk(keyed_world, login, disk):
    w = keyed_world
    disk(0, errno.EIO)
    with pytest.raises(OSError) as raised:
        post_import(login(w.alice), w.org, marked_export() * 3)
    assert raised.value.errno == errno.EIO
    assert not ImportJob.objects.exists()


def test_with_room_on_the_disk_the_same_upload_is_imported(keyed_world, login, disk):
    """The fixture itself: with room enough the upload goes through (so the tests above
    fail for the full disk, not for the fixture)."""
    w = keyed_world
    disk(1000)
    response = post_import(login(w.alice), w.org, marked_export())
    assert response.status_code == 302
    assert ImportJob.objects.count() == 1
