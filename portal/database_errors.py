"""The database refusing work for want of resources (SQLSTATE class 53): a full disk, no
memory, no free connection, a configured limit reached.

None of these is the user's fault or a bug: a write that meets one is refused with a
message that says so, its transaction rolled back, and the operator gets one log line
naming the shortage. Other database errors are bugs and are not recognised here.
"""

from __future__ import annotations

from dataclasses import dataclass

# What each condition of class 53 means, for the operator's log line.
_SHORTAGES = {
    "53100": "has no disk space left",
    "53200": "is out of memory",
    "53300": "has no free connection",
    "53400": "reached a configured limit",
}


@dataclass(frozen=True)
class DatabaseShortage:
    sqlstate: str
    message: str  # the server's own one-line message (names files, never rows)

    @property
    def disk_full(self) -> bool:
        return self.sqlstate == "53100"

    def operator_line(self) -> str:
        """One line for the log: what is wrong, and Postgres's own words."""
        what = _SHORTAGES.get(self.sqlstate, "is short of resources")
        return f"the database {what} (SQLSTATE {self.sqlstate}: {self.message})"

    def user_message(self, what_failed: str) -> str:
        """What the person on the page reads; `what_failed` says what did not happen,
        as "the file could not be stored and nothing was imported"."""
        if self.disk_full:
            return (
                f"The server's database is full, so {what_failed}. Try again later; if it "
                "keeps happening, tell the portal's operator."
            )
        return (
            f"The server's database is overloaded, so {what_failed}. Try again in a few "
            "minutes; if it keeps happening, tell the portal's operator."
        )


def database_shortage(error: BaseException) -> DatabaseShortage | None:
    """The shortage behind `error`: a psycopg error of class 53, raised as it is (a raw
    cursor, as COPY) or as the cause of Django's DatabaseError; None for anything else."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("53"):
            diag = getattr(current, "diag", None)
            primary = getattr(diag, "message_primary", None) or str(current)
            return DatabaseShortage(sqlstate=sqlstate, message=" ".join(primary.split()))
        current = current.__cause__
    return None
