"""Telling a database short of resources (SQLSTATE class 53) from any other database error,
whether psycopg raised it as it is (a raw cursor, as COPY) or Django wrapped it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, OperationalError
from psycopg import errors

from portal.database_errors import database_shortage


def wrapped(error: Exception) -> DatabaseError:
    """As Django's DatabaseErrorWrapper raises it: its own class, psycopg's as the cause."""
    try:
        raise OperationalError(str(error)) from error
    except OperationalError as django_error:
        return django_error


@pytest.mark.parametrize(
    ("error", "sqlstate", "line"),
    [
        (errors.DiskFull("could not extend file"), "53100", "has no disk space left"),
        (errors.OutOfMemory("out of memory"), "53200", "is out of memory"),
        (errors.TooManyConnections("sorry, too many clients"), "53300", "has no free connection"),
        (errors.ConfigurationLimitExceeded("limit"), "53400", "reached a configured limit"),
    ],
)
def test_each_shortage_is_recognised_raw_or_wrapped(error, sqlstate, line):
    for raised in (error, wrapped(error)):
        shortage = database_shortage(raised)
        assert shortage is not None and shortage.sqlstate == sqlstate
        assert shortage.operator_line().startswith(f"the database {line} (SQLSTATE {sqlstate}")
        assert shortage.disk_full is (sqlstate == "53100")


def test_a_full_disk_and_an_overload_say_different_things_to_the_user():
    full = database_shortage(errors.DiskFull("x"))
    busy = database_shortage(errors.OutOfMemory("x"))
    assert full.user_message("nothing was saved") == (
        "The server's database is full, so nothing was saved. Try again later; if it keeps "
        "happening, tell the portal's operator."
    )
    assert busy.user_message("nothing was saved").startswith(
        "The server's database is overloaded, so nothing was saved. Try again in a few minutes"
    )


def test_the_operator_line_is_one_line():
    shortage = database_shortage(errors.DiskFull("could not write\n  to file"))
    assert "\n" not in shortage.operator_line()
    assert shortage.operator_line().endswith("(SQLSTATE 53100: could not write to file)")


@pytest.mark.parametrize(
    "error",
    [
        errors.UniqueViolation("duplicate key"),
        errors.QueryCanceled("canceling statement"),
        errors.InternalError_("internal"),
        IntegrityError("no cause"),
        OSError(28, "No space left on device"),  # the upload's temporary file: handled there
        ValueError("not a database error"),
    ],
)
def test_other_errors_are_not_a_shortage(error):
    assert database_shortage(error) is None
    if isinstance(error, errors.Error):
        assert database_shortage(wrapped(error)) is None
