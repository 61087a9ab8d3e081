"""The Celery app. Tasks take ids only, re-fetch their rows and call one service."""

import os

from celery import Celery

from portal.logging_config import connect_celery_signals
from portal.logging_startup import install_refusal_hook

install_refusal_hook()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_celery_signals()
