"""A fresh PostgreSQL database and Redis database number of a test's own, derived from the
machine's DATABASE_URL and REDIS_URL (CI: postgres://postgres@127.0.0.1:5432/test and
redis://127.0.0.1:6379/0), for tests that start processes the way production does."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

# The stack test's Redis database number: not CI's 0, nor anything else the suite uses.
STACK_REDIS_DB = 13


def postgres_url_or_skip() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL is not a PostgreSQL URL: this test needs a real PostgreSQL")
    import psycopg

    try:
        psycopg.connect(_with_database(url, "postgres"), connect_timeout=3).close()
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL at {urlsplit(url).hostname} does not answer: {error}")
    return url


def postgres_tools_or_skip(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"PostgreSQL client programs missing: {', '.join(missing)}")


def redis_url_or_skip(db: int = STACK_REDIS_DB) -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("REDIS_URL is not set: this test needs a real Redis")
    import redis

    own = _with_database(url, str(db))
    try:
        redis.Redis.from_url(own, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {urlsplit(url).hostname} does not answer: {error}")
    return own


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def scratch_database(base_url: str, label: str) -> Iterator[str]:
    """A new, empty database beside DATABASE_URL's, dropped afterwards; yields its URL."""
    import psycopg

    base_name = urlsplit(base_url).path.lstrip("/") or "portal"
    name = f"{base_name}_{label}_{uuid.uuid4().hex[:8]}"
    admin_url = _with_database(base_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(base_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
