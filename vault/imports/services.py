"""Imports: create a job from an upload, run it (the worker), and give up on dead ones.

Write-only by construction: the items are sealed under a fresh data key that is
itself sealed to the org's authenticated public key (`data_key_create_for_writing`);
no org private key is unwrapped anywhere on this path. The whole write is one
transaction, so a failure leaves no item of the import behind; progress therefore
goes to the cache (counts and a heartbeat, never a value).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.utils import timezone

from clients.models import Collection, Organization
from clients.services.collections import CollectionError, clean_collection_name, collection_create
from portal.access import Actor, Capability, resolve
from portal.database_errors import database_shortage
from portal.events import record_event, record_org_event
from portal.models import EventType
from vault.content import ContentError, with_ssh_fingerprint
from vault.crypto import ItemUnreadable, seal_item
from vault.key_management import data_key_create_for_writing
from vault.keys import DecryptionFailed, UnknownKeyVersion
from vault.models import (
    DataKeyPurpose,
    Favorite,
    ImportJob,
    ImportStatus,
    ImportTarget,
    Item,
    OrgKey,
)
from vault.name_index import names_record
from vault.tallies import live_items_in, tally_items_added

from .bulk import rows_insert
from .formats.base import REGISTRY, Format, ImportLimits, ImportRejected, ParsedItem, RowError
from .formats.bitwarden_encrypted_json import decrypt_password_protected
from .upload import UploadDamaged, UploadTooLarge, open_upload, upload_delete, upload_store

logger = logging.getLogger("vault.imports")

BATCH_SIZE = 1000
HEAD_BYTES = 64 * 1024
ROW_ERRORS_KEPT = 1000  # listed on the job page; the count covers them all
PROGRESS_SECONDS = 24 * 60 * 60
QUEUED_GIVE_UP = timedelta(hours=1)
ITEM_FIELDS = (
    "id",
    "org_id",
    "type",
    "data_key_id",
    "name_ciphertext",
    "data_ciphertext",
    "reprompt",
    "created_at",
    "updated_at",
    "revision",
)

GENERIC_FAILURE = (
    "The import stopped because of an error on our side; nothing was imported. Try again, "
    "and if it happens again, tell your operator (quote the job id)."
)
INTERRUPTED = (
    "The import was interrupted (the worker stopped) and nothing was imported. Upload the "
    "file again."
)
NOT_WRITTEN = "the items could not be written and nothing was imported"
DAMAGED = (
    "The stored upload could not be read back (damaged, or a key it needs is missing); "
    "nothing was imported. Upload the file again."
)


class ImportRefused(Exception):
    """An upload refused before any job runs; the message says what to do."""


class _GivenUp(Exception):
    """The job is no longer running (the sweep marked it failed); its work is rolled back."""


def import_limits() -> ImportLimits:
    return ImportLimits(
        max_items=settings.VAULT_IMPORT_MAX_ITEMS,
        max_field_chars=settings.VAULT_IMPORT_MAX_FIELD_CHARS,
    )


def max_upload_bytes() -> int:
    return settings.VAULT_IMPORT_MAX_BYTES


def progress_key(job_id: UUID) -> str:
    return f"vault:import-progress:{job_id}"


def import_progress(job_id: UUID) -> dict:
    """What the worker last reported: bytes read, items and errors so far, heartbeat."""
    return cache.get(progress_key(job_id)) or {}


# --------------------------------------------------------------------------
# Creating a job (the web request or the operator's command)
# --------------------------------------------------------------------------


def import_job_create(
    *,
    actor: Actor | None,
    org: Organization,
    upload,
    format_key: str,
    collection: Collection | None,
    file_password: str = "",
    enqueue: bool = True,
) -> ImportJob:
    """Store the upload encrypted, record the job, and queue the worker once committed.

    `actor` is None for the operator's manage.py command only. `upload` is a Django
    UploadedFile (or anything with `size` and `chunks()`); it is refused before it is read
    when it announces more than the limit, and while it is read if it brings more.
    `collection` None means: collections named in the file. A `file_password` opens a
    password-protected Bitwarden export here, in the request (a wrong password is said on
    the form at once); its plain JSON is then stored like any upload, and the password
    goes nowhere. `enqueue` False: the caller runs the job itself (the operator's command).

    All in one transaction: a database that runs out of disk (or memory) while the chunks
    are written rolls back the job and every chunk, and the upload is refused saying so.
    """
    try:
        with transaction.atomic():
            return _job_create(
                actor=actor,
                org=org,
                upload=upload,
                format_key=format_key,
                collection=collection,
                file_password=file_password,
                enqueue=enqueue,
            )
    except DatabaseError as error:
        shortage = database_shortage(error)
        if shortage is None:
            raise
        logger.error("import upload refused: %s", shortage.operator_line())
        raise ImportRefused(
            shortage.user_message("the file could not be stored and nothing was imported")
        ) from None


def _job_create(
    *,
    actor: Actor | None,
    org: Organization,
    upload,
    format_key: str,
    collection: Collection | None,
    file_password: str,
    enqueue: bool,
) -> ImportJob:
    if actor is not None and (actor.org.pk != org.pk or not actor.can(Capability.IMPORT)):
        raise PermissionDenied
    limit = max_upload_bytes()
    if (upload.size is not None and upload.size > limit) or getattr(upload, "truncated", False):
        raise ImportRefused(_too_large(limit))
    if format_key and format_key not in REGISTRY:
        raise ImportRefused("Choose one of the listed formats.")
    if collection is not None and collection.org_id != org.pk:
        raise ImportRefused("Choose a collection of this organization.")
    if not OrgKey.objects.filter(org=org, active=True).exists():
        raise ImportRefused("This organization has no vault keys yet; ask your operator.")
    job = ImportJob.objects.create(
        org=org,
        created_by=actor.user if actor is not None else None,
        acting_provider=actor.acting_provider if actor is not None else None,
        format=format_key,
        target=ImportTarget.FROM_FILE if collection is None else ImportTarget.COLLECTION,
        collection=collection,
    )
    pieces = upload.chunks()
    if file_password:
        pieces = [_opened_with_password(upload, file_password, limit)]
        job.format = "bitwarden_json"
        job.save(update_fields=["format"])
    try:
        upload_store(job=job, pieces=pieces, max_bytes=limit)
    except UploadTooLarge as exc:
        raise ImportRefused(_too_large(limit)) from exc
    if job.upload_size == 0:
        raise ImportRefused("The file is empty. Choose the exported file and upload it again.")
    if enqueue:
        job_id = str(job.pk)
        transaction.on_commit(lambda: _enqueue(job_id))
    return job


def _opened_with_password(upload, file_password: str, limit: int) -> bytes:
    """The plain JSON inside a password-protected Bitwarden export (read whole: it must be)."""
    data = bytearray()
    for piece in upload.chunks():
        data += piece
        if len(data) > limit:
            raise ImportRefused(_too_large(limit))
    try:
        return decrypt_password_protected(bytes(data), file_password)
    except ImportRejected as rejection:
        raise ImportRefused(str(rejection)) from rejection


def _enqueue(job_id: str) -> None:
    from vault.tasks import run_import  # the task module imports this one

    run_import.delay(job_id)


def _too_large(limit: int) -> str:
    megabytes = limit / (1024 * 1024)
    return (
        f"The file is larger than {megabytes:,.0f} MB, the most one import takes. Split the "
        "export into smaller files (for example by folder) and import them one by one."
    )


# --------------------------------------------------------------------------
# Running a job (the worker)
# --------------------------------------------------------------------------


@dataclass
class _Outcome:
    row_errors: list[dict[str, str]] = field(default_factory=list)
    row_error_count: int = 0
    parsed: int = 0

    def add_error(self, error: RowError) -> None:
        self.row_error_count += 1
        if len(self.row_errors) < ROW_ERRORS_KEPT:
            self.row_errors.append({"where": error.where, "reason": error.reason})


def import_job_run(*, job_id: UUID) -> ImportJob | None:
    """Run a queued job to the end; None when there is no such queued job (a retry, a race)."""
    job = _claim(job_id)
    if job is None:
        return None
    try:
        _import(job)
    except ImportRejected as rejection:
        _fail(job.pk, str(rejection))
    except (UploadDamaged, DecryptionFailed, UnknownKeyVersion) as exc:
        logger.error(
            "Import %s: the stored upload could not be read (%s).", job.pk, type(exc).__name__
        )
        _fail(job.pk, DAMAGED)
    except ItemUnreadable as exc:
        logger.error("Import %s: the org's public key is not trusted (%s).", job.pk, exc.what)
        _fail(
            job.pk, "This organization's vault key failed its integrity check; ask your operator."
        )
    except _GivenUp:
        logger.warning("Import %s was given up while it ran; its work was rolled back.", job.pk)
    except Exception as exc:
        shortage = database_shortage(exc)
        if shortage is not None:  # a full disk, no memory: the operator's to fix
            logger.error("Import %s failed: %s.", job.pk, shortage.operator_line())
            _fail(job.pk, shortage.user_message(NOT_WRITTEN))
        else:
            # Only the type: a message could quote something the file held.
            logger.error("Import %s failed: %s.", job.pk, type(exc).__name__)
            _fail(job.pk, GENERIC_FAILURE)
    finally:
        _end(job.pk)
    return ImportJob.objects.filter(pk=job.pk).first()


@transaction.atomic
def _claim(job_id: UUID) -> ImportJob | None:
    job = (
        ImportJob.objects.select_for_update().filter(pk=job_id, status=ImportStatus.QUEUED).first()
    )
    if job is None:
        return None
    job.status, job.started_at = ImportStatus.RUNNING, timezone.now()
    job.save(update_fields=["status", "started_at"])
    _report(job.pk, bytes_read=0, items=0, errors=0)
    return job


@transaction.atomic
def _import(claimed: ImportJob) -> None:
    # The lock is held until the end: the sweep skips locked jobs (their worker is alive).
    job = ImportJob.objects.select_for_update().select_related("org").get(pk=claimed.pk)
    if job.status != ImportStatus.RUNNING:
        raise _GivenUp
    actor = _actor_still_allowed(job)
    fmt = _format_for(job)
    stream, raw = open_upload(job)
    data_key_row, data_key = data_key_create_for_writing(org=job.org, purpose=DataKeyPurpose.IMPORT)
    writer = _BatchWriter(job, data_key_row, data_key, _collections_for(job))
    outcome = _Outcome()
    limits = import_limits()
    for entry in fmt.parse(stream, limits):
        if isinstance(entry, RowError):
            outcome.add_error(entry)
        else:
            outcome.parsed += 1
            if outcome.parsed > limits.max_items:
                raise ImportRejected(
                    f"The file holds more than {limits.max_items:,} items, the most one import "
                    "takes. Split it into smaller files; nothing was imported."
                )
            error = writer.add(entry)
            if error is not None:
                outcome.add_error(error)
        if (outcome.parsed + outcome.row_error_count) % BATCH_SIZE == 0:
            _report(job.pk, raw.bytes_read, writer.written, outcome.row_error_count)
    writer.flush()
    writer.tally()
    _finish(job, fmt, actor, writer, outcome, data_key_row)


def _actor_still_allowed(job: ImportJob) -> Actor | None:
    """Whoever started the job must still be allowed to import when it runs."""
    if job.created_by is None:
        return None  # the operator
    actor = resolve(job.created_by, job.org)
    if actor is None or not actor.can(Capability.IMPORT) or not job.org.enabled:
        raise ImportRejected(
            "The person who started this import may no longer import into this organization; "
            "nothing was imported."
        )
    return actor


def _format_for(job: ImportJob) -> Format:
    stream, _raw = open_upload(job)
    head = stream.read(HEAD_BYTES)
    if job.format:
        fmt = REGISTRY[job.format]
        if not fmt.detect(head):
            raise ImportRejected(
                f"The file does not look like a {fmt.label} export. Choose the format it was "
                "exported in, or let the portal detect it; nothing was imported."
            )
        return fmt
    for fmt in REGISTRY.values():  # every format registers on import (see formats/__init__)
        if fmt.detect(head):
            job.detected_format = fmt.key
            return fmt
    if b"\x00" in head:
        raise ImportRejected(
            "The file contains NUL bytes, so it is not a text export. Export the data again "
            "and upload that file."
        )
    raise ImportRejected(
        "We could not tell which program exported this file. Choose its format in the list "
        "and upload it again; nothing was imported."
    )


def _collections_for(job: ImportJob) -> _CollectionNames | _ChosenCollection:
    if job.target == ImportTarget.COLLECTION:
        collection = Collection.objects.filter(org=job.org, pk=job.collection_id).first()
        if collection is None:
            raise ImportRejected(
                "The chosen collection was deleted before the import ran; nothing was imported."
            )
        return _ChosenCollection(
            [collection.pk],
            counted_before={
                collection.pk: live_items_in(org_id=job.org_id, collection_id=collection.pk)
            },
        )
    return _CollectionNames(job.org)


class _ChosenCollection(list):
    """The one collection the importer chose, with its live items before the import."""

    def __init__(self, ids: list[UUID], *, counted_before: dict[UUID, int]):
        super().__init__(ids)
        self.counted_before = counted_before


class _CollectionNames:
    """Collections named in the file: existing ones reused by name, missing ones created."""

    def __init__(self, org: Organization):
        self.org = org
        self.ids: dict[str, UUID] = {}
        self.ids_by_names: dict[tuple[str, ...], list[UUID]] = {}
        self.created: list[str] = []
        # Live items of each collection before the import wrote any (for the tallies).
        self.counted_before: dict[UUID, int] = {}

    def ids_for(self, names: Iterable[str]) -> list[UUID]:
        names = tuple(names)
        if names in self.ids_by_names:  # most items name the same few collections
            return self.ids_by_names[names]
        ids = []
        for raw_name in names:
            name = clean_collection_name(raw_name)  # CollectionError for "a//b"
            if len(name) > Collection._meta.get_field("name").max_length:
                raise CollectionError("A collection name in the file is too long.")
            if name not in self.ids:
                existing = Collection.objects.filter(org=self.org, name=name).first()
                if existing is None:
                    existing = collection_create(org=self.org, name=name)
                    self.created.append(name)
                    self.counted_before[existing.pk] = 0
                else:
                    self.counted_before[existing.pk] = live_items_in(
                        org_id=self.org.pk, collection_id=existing.pk
                    )
                self.ids[name] = existing.pk
            ids.append(self.ids[name])
        self.ids_by_names[names] = list(dict.fromkeys(ids))
        return self.ids_by_names[names]


class _BatchWriter:
    """Seals items and writes them, and their collection links, 1,000 at a time."""

    def __init__(self, job: ImportJob, data_key_row, data_key: bytes, collections):
        self.job = job
        self.data_key_row = data_key_row
        self.data_key = data_key
        self.collections = collections
        from policies.selectors import item_types_refused

        self.refused_types = item_types_refused(org=job.org)  # a policy removes them (cards)
        self.favorites_for = job.created_by if job.acting_provider_id is None else None
        self.items: list[tuple] = []  # in ITEM_FIELDS order
        self.links: list[tuple[UUID, UUID]] = []
        self.favorites: list[UUID] = []
        self.names: list[tuple[UUID, bytes, str]] = []  # for the name index
        self.per_collection: dict[UUID, int] = {}  # items written, for the tallies
        self.counts: dict[str, int] = {}
        self.written = 0
        self.now = timezone.now()

    def add(self, parsed: ParsedItem) -> RowError | None:
        try:
            content = with_ssh_fingerprint(parsed.content)
            content.validate()
            collection_ids = (
                self.collections
                if isinstance(self.collections, list)
                else self.collections.ids_for(parsed.collections)
            )
        except ContentError as exc:
            return RowError(parsed.where or "an item", " ".join(exc.messages) + " Skipped.")
        except CollectionError as exc:
            return RowError(parsed.where or "an item", f"{exc} Skipped.")
        refused_by = self.refused_types.get(content.type)
        if refused_by is not None:
            return RowError(
                parsed.where or "an item",
                f"Not imported: this organization's “{refused_by}” policy is on. Skipped.",
            )
        item_id = uuid.uuid4()
        sealed = seal_item(content, org_id=self.job.org_id, item_id=item_id, data_key=self.data_key)
        self.items.append(
            (
                item_id,
                self.job.org_id,
                content.type,
                self.data_key_row.pk,
                sealed.name_ciphertext,
                sealed.data_ciphertext,
                parsed.reprompt,
                self.now,
                self.now,
                1,
            )
        )
        self.links.extend((item_id, collection_id) for collection_id in collection_ids)
        self.names.append((item_id, sealed.name_ciphertext, content.name))
        if parsed.favorite and self.favorites_for is not None:
            self.favorites.append(item_id)
        self.counts[content.type] = self.counts.get(content.type, 0) + 1
        if len(self.items) >= BATCH_SIZE:
            self.flush()
        return None

    def flush(self) -> None:
        rows_insert(Item, ITEM_FIELDS, self.items)
        self.written += len(self.items)
        rows_insert(Item.collections.through, ("item_id", "collection_id"), self.links)
        for _item_id, collection_id in self.links:
            self.per_collection[collection_id] = self.per_collection.get(collection_id, 0) + 1
        if self.favorites:
            Favorite.objects.bulk_create(
                [Favorite(user=self.favorites_for, item_id=i) for i in self.favorites],
                batch_size=BATCH_SIZE,
            )
        # Under the import's own data key: the import stays write-only.
        names_record(
            org_id=self.job.org_id,
            data_key_row=self.data_key_row,
            data_key=self.data_key,
            entries=self.names,
        )
        self.items, self.links, self.favorites, self.names = [], [], [], []

    def tally(self) -> None:
        """Count the items in the org's tallies: last, so that their rows stay locked (members'
        writes in the org wait on them) only from here to the commit."""
        tally_items_added(
            org_id=self.job.org_id,
            per_collection=self.per_collection,
            total=self.written,
            counted_before=self.collections.counted_before,
        )


def _finish(job, fmt: Format, actor: Actor | None, writer: _BatchWriter, outcome, data_key_row):
    job.status = ImportStatus.SUCCEEDED
    job.detected_format = fmt.key
    job.counts = writer.counts
    job.collections_created = (
        writer.collections.created if isinstance(writer.collections, _CollectionNames) else []
    )
    job.row_errors = outcome.row_errors
    job.row_error_count = outcome.row_error_count
    job.data_key = data_key_row
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "detected_format",
            "counts",
            "collections_created",
            "row_errors",
            "row_error_count",
            "data_key",
            "finished_at",
        ]
    )
    details = {
        "format": fmt.key,
        "counts": job.counts,
        "items": writer.written,
        "collections_created": len(job.collections_created),
        "row_errors": job.row_error_count,
    }
    if actor is None:
        record_event(EventType.IMPORT_COMPLETED, org=job.org, obj=job, details=details)
    else:
        record_org_event(EventType.IMPORT_COMPLETED, actor=actor, obj=job, details=details)


@transaction.atomic
def _fail(job_id: UUID, message: str) -> None:
    ImportJob.objects.filter(pk=job_id).exclude(status=ImportStatus.SUCCEEDED).update(
        status=ImportStatus.FAILED, failure_message=message, finished_at=timezone.now()
    )


def _end(job_id: UUID) -> None:
    """Whatever happened: the upload goes, in a transaction of its own."""
    with transaction.atomic():
        upload_delete(job_id=job_id)
    cache.delete(progress_key(job_id))


def _report(job_id: UUID, bytes_read: int, items: int, errors: int) -> None:
    cache.set(
        progress_key(job_id),
        {"bytes": bytes_read, "items": items, "errors": errors, "heartbeat": time.time()},
        PROGRESS_SECONDS,
    )


# --------------------------------------------------------------------------
# The sweep (Celery beat): jobs whose worker died are failed, never left running
# --------------------------------------------------------------------------


def import_jobs_fail_stale(*, stale_after: timedelta | None = None) -> int:
    """Fail running jobs without a recent heartbeat, and queued jobs never picked up."""
    stale_after = stale_after or timedelta(seconds=settings.VAULT_IMPORT_STALE_SECONDS)
    now = timezone.now()
    failed = 0
    with transaction.atomic():
        # A live worker holds its job's row lock (Postgres): those rows are skipped.
        running = ImportJob.objects.select_for_update(skip_locked=True).filter(
            status=ImportStatus.RUNNING
        )
        for job in running:
            beat = import_progress(job.pk).get("heartbeat")
            last_sign = beat if beat is not None else (job.started_at or now).timestamp()
            if now.timestamp() - last_sign > stale_after.total_seconds():
                _give_up(job, INTERRUPTED, now)
                failed += 1
        queued = ImportJob.objects.select_for_update(skip_locked=True).filter(
            status=ImportStatus.QUEUED, created_at__lt=now - QUEUED_GIVE_UP
        )
        for job in queued:
            _give_up(
                job, "The import never started (no worker took it); upload the file again.", now
            )
            failed += 1
    return failed


def _give_up(job: ImportJob, message: str, now) -> None:
    job.status, job.failure_message, job.finished_at = ImportStatus.FAILED, message, now
    job.save(update_fields=["status", "failure_message", "finished_at"])
    upload_delete(job_id=job.pk)
    cache.delete(progress_key(job.pk))
    logger.warning("Import %s of org %s marked failed: %s", job.pk, job.org_id, message)
