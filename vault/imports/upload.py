"""The upload at rest: AES-GCM chunks in the database under a one-off key wrapped by a KEK.

Web and worker share the database, not a disk. Each chunk's associated data names the
org, the job, its index and whether it is the last, so chunks cannot be moved to
another job, reordered or cut off the end. The worker reads the upload back as a
stream (`open_upload`), one chunk in memory at a time.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from uuid import UUID

from vault.keyring import configured_keyring
from vault.keys import (
    KEY_LENGTH,
    KeyRing,
    WrappedKey,
    decrypt_upload_chunk,
    encrypt_upload_chunk,
    unwrap_upload_key,
    wrap_upload_key,
)
from vault.models import ImportJob, ImportUploadChunk

CHUNK_SIZE = 1024 * 1024
READ_BUFFER = 64 * 1024


class UploadTooLarge(Exception):
    pass


class UploadDamaged(Exception):
    """The stored chunks are not the whole upload, in order (tampered with or cut short)."""


def upload_store(
    *, job: ImportJob, pieces: Iterable[bytes], max_bytes: int, keyring: KeyRing | None = None
) -> int:
    """Encrypt and store the upload, read piece by piece; returns its size in bytes.

    Stops with UploadTooLarge as soon as more than `max_bytes` arrived, whatever size
    the client announced. The caller's transaction rolls the chunks back then.
    """
    keyring = keyring or configured_keyring()
    upload_key = os.urandom(KEY_LENGTH)
    wrapped = wrap_upload_key(upload_key, org_id=job.org_id, job_id=job.pk, keyring=keyring)
    job.upload_kek_id, job.upload_key_wrapped = wrapped.kek_id, wrapped.ciphertext
    size = 0
    index = 0
    pending: bytes | None = None  # held back one chunk, to know which one is the last
    for chunk in _rechunked(pieces):
        size += len(chunk)
        if size > max_bytes:
            raise UploadTooLarge
        if pending is not None:
            _store_chunk(job, upload_key, index, pending, last=False)
            index += 1
        pending = chunk
    _store_chunk(job, upload_key, index, pending or b"", last=True)
    job.upload_size = size
    job.save(update_fields=["upload_kek_id", "upload_key_wrapped", "upload_size"])
    return size


def _rechunked(pieces: Iterable[bytes]):
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= CHUNK_SIZE:
            yield bytes(buffer[:CHUNK_SIZE])
            del buffer[:CHUNK_SIZE]
    if buffer:
        yield bytes(buffer)


def _store_chunk(job: ImportJob, upload_key: bytes, index: int, plaintext: bytes, *, last: bool):
    ciphertext = encrypt_upload_chunk(
        plaintext, upload_key=upload_key, org_id=job.org_id, job_id=job.pk, index=index, last=last
    )
    ImportUploadChunk.objects.create(job=job, index=index, ciphertext=ciphertext)


def upload_delete(*, job_id: UUID) -> int:
    deleted, _ = ImportUploadChunk.objects.filter(job_id=job_id).delete()
    return deleted


class UploadReader(io.RawIOBase):
    """The decrypted upload as a raw binary stream; counts the bytes handed out."""

    def __init__(self, job: ImportJob, *, keyring: KeyRing | None = None):
        super().__init__()
        keyring = keyring or configured_keyring()
        wrapped = WrappedKey(kek_id=job.upload_kek_id, ciphertext=bytes(job.upload_key_wrapped))
        self._key = unwrap_upload_key(wrapped, org_id=job.org_id, job_id=job.pk, keyring=keyring)
        self._job = job
        indices = list(
            ImportUploadChunk.objects.filter(job_id=job.pk)
            .order_by("index")
            .values_list("index", flat=True)
        )
        if not indices or indices != list(range(len(indices))):
            raise UploadDamaged(f"import {job.pk}: chunks missing or out of order")
        self._count = len(indices)
        self._next = 0
        self._buffer = memoryview(b"")
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Back to the start only: a parser may read the head, then the whole file."""
        if (offset, whence) == (0, io.SEEK_CUR):
            return self.tell()
        if (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("an upload can only be read again from the start")
        self._next, self._buffer, self.bytes_read = 0, memoryview(b""), 0
        return 0

    def tell(self) -> int:
        return self.bytes_read

    def readinto(self, target) -> int:
        while not len(self._buffer) and self._next < self._count:
            self._buffer = memoryview(self._load(self._next))
            self._next += 1
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        self.bytes_read += size
        return size

    def _load(self, index: int) -> bytes:
        ciphertext = (
            ImportUploadChunk.objects.filter(job_id=self._job.pk, index=index)
            .values_list("ciphertext", flat=True)
            .first()
        )
        if ciphertext is None:
            raise UploadDamaged(f"import {self._job.pk}: chunk {index} is gone")
        return decrypt_upload_chunk(
            bytes(ciphertext),
            upload_key=self._key,
            org_id=self._job.org_id,
            job_id=self._job.pk,
            index=index,
            last=index == self._count - 1,
        )


def open_upload(
    job: ImportJob, *, keyring: KeyRing | None = None
) -> tuple[io.BufferedReader, UploadReader]:
    """A buffered stream of the decrypted upload, and its raw reader (for progress)."""
    raw = UploadReader(job, keyring=keyring)
    return io.BufferedReader(raw, buffer_size=READ_BUFFER), raw
