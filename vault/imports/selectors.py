"""Reads for the import pages, always scoped by org. Counts only: never an item."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import QuerySet

from clients.models import Organization
from vault.content import ItemType
from vault.models import ImportJob, ImportStatus

from .formats.base import REGISTRY
from .services import import_progress


def import_jobs_for_org(*, org: Organization) -> QuerySet[ImportJob]:
    return (
        ImportJob.objects.filter(org=org)
        .select_related("created_by", "acting_provider", "collection")
        .defer("upload_key_wrapped")
        .order_by("-created_at", "-id")  # the id breaks ties, so that pages can follow on
    )


def import_job_in_org(*, org: Organization, job_id: UUID) -> ImportJob | None:
    return import_jobs_for_org(org=org).filter(pk=job_id).first()


@dataclass(frozen=True)
class JobProgress:
    percent: int | None  # None: not started
    items: int
    errors: int


def job_progress(job: ImportJob) -> JobProgress:
    if job.status == ImportStatus.SUCCEEDED:
        return JobProgress(100, job.imported_total, job.row_error_count)
    if job.status != ImportStatus.RUNNING:
        return JobProgress(None, 0, 0)
    reported = import_progress(job.pk)
    read = reported.get("bytes", 0)
    percent = min(99, int(100 * read / job.upload_size)) if job.upload_size else 0
    return JobProgress(percent, reported.get("items", 0), reported.get("errors", 0))


def counts_by_type(job: ImportJob) -> list[tuple[str, int]]:
    """(label, count) in the item types' order, for the types the import created."""
    return [
        (ItemType(value).label, job.counts[value])
        for value in ItemType.values
        if job.counts.get(value)
    ]


def format_label(job: ImportJob) -> str:
    fmt = REGISTRY.get(job.detected_format or job.format)
    if fmt is not None:
        return fmt.label
    return "Detect from the file" if job.is_active else "—"
