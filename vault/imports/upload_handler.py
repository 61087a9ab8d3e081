"""Where an upload waits while the request runs: memory, or a temporary file encrypted
under a key that lives in the request's memory only.

Django's own handler for large uploads writes them to a temporary file in plain text; an
export file is every credential of an org, so this one encrypts each piece (AES-GCM,
a random key per upload) before it touches the disk. Past `VAULT_IMPORT_MAX_BYTES` it
stops keeping data and only counts, so an oversized upload is refused by the form with
its size, never stored whole. The portal takes no other file uploads.

A full disk (ENOSPC, or a quota: EDQUOT) does not end the request with an error: the
handler drops what it wrote, counts the rest, logs one line for the operator, and the
form refuses the upload saying the server's disk is full.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import struct
import tempfile
from collections.abc import Iterator

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

logger = logging.getLogger("vault.imports")

_LENGTH = struct.Struct(">I")
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_NONCE = 12


class EncryptedTemporaryUploadedFile(UploadedFile):
    """An upload in an anonymous temporary file, each piece sealed under a one-off key."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        super().__init__(
            tempfile.TemporaryFile(), name, content_type, size, charset, content_type_extra
        )
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._pieces = 0
        self.truncated = False  # more arrived than the limit: only counted
        self.disk_full = False  # the disk had no room: nothing kept, only counted

    def write_piece(self, data: bytes) -> None:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, data, _LENGTH.pack(self._pieces))
        self.file.write(_LENGTH.pack(len(sealed)) + nonce + sealed)
        self.file.flush()  # a full disk shows here, while the handler can still refuse
        self._pieces += 1

    def discard(self) -> None:
        """Give back the disk space of what was written: the upload is refused. (Closing
        removes the anonymous file; the flush it tries first may fail again.)"""
        with contextlib.suppress(OSError):
            self.file.close()
        self._pieces = 0

    def chunks(self, chunk_size=None) -> Iterator[bytes]:
        self.file.seek(0)
        for index in range(self._pieces):
            (length,) = _LENGTH.unpack(self.file.read(_LENGTH.size))
            nonce = self.file.read(_NONCE)
            yield self._aead.decrypt(nonce, self.file.read(length), _LENGTH.pack(index))

    def multiple_chunks(self, chunk_size=None) -> bool:
        return True

    def read(self, *args) -> bytes:
        return b"".join(self.chunks())


class EncryptedTemporaryFileUploadHandler(FileUploadHandler):
    """Used after Django's in-memory handler, for uploads too large to keep in memory."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file = EncryptedTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.VAULT_IMPORT_MAX_BYTES:
            self.file.truncated = True
        elif raw_data and not self.file.disk_full:
            try:
                self.file.write_piece(raw_data)
            except OSError as error:
                if error.errno not in DISK_FULL:
                    raise
                self.file.disk_full = True
                self.file.discard()
                logger.error(
                    "import upload refused: no space left on the disk of %s: %s",
                    tempfile.gettempdir(),
                    error.strerror,
                )

    def file_complete(self, file_size):
        self.file.size = file_size  # the size received, kept or not: the form checks it
        return self.file

    def upload_interrupted(self):
        if hasattr(self, "file"):
            self.file.close()
