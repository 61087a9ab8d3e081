"""Where an upload waits while the request runs: memory, or a temporary file encrypted
under a key that lives in the request's memory only.

Django's own handler for large uploads writes them to a temporary file in plain text; an
export file is every credential of an org, so this one encrypts each piece (AES-GCM,
a random key per upload) before it touches the disk. Past `VAULT_IMPORT_MAX_BYTES` it
stops keeping data and only counts, so an oversized upload is refused by the form with
its size, never stored whole. The portal takes no other file uploads.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

_LENGTH = struct.Struct(">I")
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

    def write_piece(self, data: bytes) -> None:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, data, _LENGTH.pack(self._pieces))
        self.file.write(_LENGTH.pack(len(sealed)) + nonce + sealed)
        self._pieces += 1

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
        elif raw_data:
            self.file.write_piece(raw_data)

    def file_complete(self, file_size):
        self.file.size = file_size  # the size received, kept or not: the form checks it
        return self.file

    def upload_interrupted(self):
        if hasattr(self, "file"):
            self.file.close()
