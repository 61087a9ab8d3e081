"""Start-up refusals in one line: a process that cannot run says why and exits non-zero.

A missing or malformed vault key file, a weak secret key, an unreachable database: the
settings (or the first query) raise, and instead of a traceback an operator reads one
line naming what to fix. Installed for every process that imports the portal package
(manage.py, the Celery worker and beat); gunicorn's workers load the app through
`wsgi_application`, which also stops gunicorn instead of letting it restart workers that
cannot boot.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

PREFIX = "Provider Portal cannot start: "
# gunicorn's arbiter halts (rather than respawning workers) on this worker exit code.
GUNICORN_WORKER_BOOT_ERROR = 3


def refusal_line(error: BaseException) -> str | None:
    """The one line for an error an operator fixes in the environment, else None."""
    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import OperationalError

    if isinstance(error, ImproperlyConfigured):
        return PREFIX + str(error)
    if isinstance(error, OperationalError):
        first = (str(error).strip().splitlines() or ["no answer"])[0]
        return f"{PREFIX}the database does not answer ({first}). Check DATABASE_URL."
    return None


def is_environment_error(error: BaseException | None) -> bool:
    """A refusal above, or a broker that does not answer: the log line's message says it
    all, and a traceback would only bury it."""
    if error is None:
        return False
    if refusal_line(error) is not None:
        return True
    try:
        from kombu.exceptions import OperationalError as BrokerUnreachable
    except ImportError:  # pragma: no cover - kombu comes with Celery
        return False
    return isinstance(error, BrokerUnreachable)


def _excepthook(kind, error, traceback, *, previous=sys.excepthook) -> None:
    line = refusal_line(error)
    if line is None:
        previous(kind, error, traceback)
    else:
        print(line, file=sys.stderr)


def install_refusal_hook() -> None:
    if sys.excepthook is not _excepthook:
        sys.excepthook = _excepthook


def wsgi_application(load: Callable):
    try:
        return load()
    except Exception as error:
        line = refusal_line(error)
        if line is None:
            raise
        print(line, file=sys.stderr, flush=True)
        sys.exit(GUNICORN_WORKER_BOOT_ERROR)
