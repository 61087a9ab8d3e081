"""Periodic vault jobs. Tasks take ids (or nothing), never contents."""

import logging

from celery import shared_task

from .services import items_purge_trash

logger = logging.getLogger("vault")


@shared_task
def purge_trash() -> int:
    """Run by Celery beat: delete for good what has been in the trash for 30 days."""
    purged = items_purge_trash()
    if purged:
        logger.info("Purged %d items that were in the trash for 30 days.", purged)
    return purged
