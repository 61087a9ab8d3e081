"""Settings for the test suite: production-like, with fast hashing and eager Celery."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-" + "k3y-" * 12)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DEBUG", "false")
# A fixed key-encryption key for the test suite only (32 bytes, base64).
os.environ.setdefault("VAULT_KEKS", "test1:dGVzdC1vbmx5LXZhdWx0LWtleS0wMDAwMDAwMDAwMDA=")

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_FAILURE_LIMIT = 3
WHITENOISE_AUTOREFRESH = True  # no collectstatic needed in tests
# Query counts pinned in tests must not depend on whether Redis is configured.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Each prepared query (portal/prepared.py) is also built and compiled with the real
# arguments and compared with what it ran: a shape that depends on an argument fails.
PREPARED_QUERIES_CHECKED = True
