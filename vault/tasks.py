"""Vault jobs. Tasks take ids (or nothing), never contents."""

import logging
from uuid import UUID

from celery import shared_task

from .imports.services import import_job_run, import_jobs_fail_stale
from .services import items_purge_trash

logger = logging.getLogger("vault")


@shared_task
def purge_trash() -> int:
    """Run by Celery beat: delete for good what has been in the trash for 30 days."""
    purged = items_purge_trash()
    if purged:
        logger.info("Purged %d items that were in the trash for 30 days.", purged)
    return purged


# acks_late=False (Celery's default, stated on purpose): the message is acknowledged when
# the worker takes it, so a worker that dies mid-import never gets the job redelivered.
# Its transaction rolls back (nothing imported), and `fail_stale_imports` marks the job
# failed and deletes its upload: an import runs at most once, and never stays "running".
@shared_task(acks_late=False, ignore_result=True)
def run_import(job_id: str) -> None:
    """Run one import job; the argument is the job's id, nothing else."""
    import_job_run(job_id=UUID(job_id))


@shared_task
def fail_stale_imports() -> int:
    """Run by Celery beat: imports whose worker stopped are failed, never left running."""
    return import_jobs_fail_stale()
