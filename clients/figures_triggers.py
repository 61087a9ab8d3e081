"""The database triggers that keep `ClientFigures` up to date, for Postgres and SQLite.

Each figure changes in the statement that changes what it counts, inside that
statement's transaction, whatever wrote it: a service, a cascade (deleting an account
deletes its memberships and devices), the admin site or a bulk seed. A counter moves by
`column = column ± 1` in one UPDATE, so two transactions never lose each other's change.

A trigger adds a row's contribution (NEW) and takes away the old one (OLD); an update
does both. The pending-invitation columns are recounted for the one org instead (its
invited members only): they depend on several invitation rows per member.

Installed (and repaired) after every `migrate` by `figures_triggers_ensure`, not by a
migration: SQLite drops a table's triggers when a later migration rebuilds the table.
"""

# Every statement here is assembled from this module's own constants (table, column and
# status names), never from input: S608 does not apply.
# ruff: noqa: S608

from __future__ import annotations

from datetime import timedelta

from django.db import connections, transaction

FIGURES = "clients_clientfigures"
# The stored last activity moves only when an event is at least this much newer, so a
# burst of events (every item view writes one) rewrites the row once a minute at most.
LAST_ACTIVITY_RESOLUTION = timedelta(minutes=1)

_STATUSES = ("invited", "accepted", "confirmed", "revoked")
_HOLDS_SEAT = "('invited', 'accepted', 'confirmed')"


def _no_device(user: str, *, other_than: str | None = None) -> str:
    """SQL: the account has no confirmed TOTP device (besides device `other_than`)."""
    besides = f" AND d.id <> {other_than}" if other_than else ""
    return (
        "NOT EXISTS (SELECT 1 FROM otp_totp_totpdevice d "
        f"WHERE d.user_id = {user} AND d.confirmed{besides})"
    )


def _pending_recount(org: str, guard: str = "1 = 1") -> list[str]:
    """SQL: recount one org's invited members whose link still works, and when the first
    of those links runs out. Postgres locks the figures row first, so that the recount
    reads what a concurrent change committed while this one waited for the row."""
    live = "i.membership_id = m.id AND i.used_at IS NULL AND i.expires_at > CURRENT_TIMESTAMP"
    return [
        f"PERFORM 1 FROM {FIGURES} WHERE org_id = {org} AND ({guard}) FOR UPDATE",
        f"""UPDATE {FIGURES} SET
        invitations_pending = (
            SELECT COUNT(*) FROM clients_membership m
            WHERE m.org_id = {org} AND m.status = 'invited'
              AND EXISTS (SELECT 1 FROM portal_invitation i WHERE {live})),
        invitations_expire_next = (
            SELECT MIN(last_expiry) FROM (
                SELECT MAX(i.expires_at) AS last_expiry
                FROM clients_membership m JOIN portal_invitation i ON {live}
                WHERE m.org_id = {org} AND m.status = 'invited'
                GROUP BY m.id) per_member)
        WHERE org_id = {org} AND ({guard})""",
    ]


def _membership(row: str, sign: str) -> list[str]:
    """A membership row's contribution, added (+, NEW) or taken away (-, OLD)."""
    by_status = ",\n".join(
        f"{status} = {status} {sign} CASE WHEN {row}.status = '{status}' THEN 1 ELSE 0 END"
        for status in _STATUSES
    )
    return [
        f"""UPDATE {FIGURES} SET {by_status},
        seats_used = seats_used {sign} CASE WHEN {row}.status IN {_HOLDS_SEAT} THEN 1 ELSE 0 END,
        without_two_step = without_two_step {sign} CASE
            WHEN {row}.status = 'confirmed' AND {_no_device(f"{row}.user_id")} THEN 1 ELSE 0 END
        WHERE org_id = {row}.org_id""",
        *_pending_recount(f"{row}.org_id", guard=f"{row}.status = 'invited'"),
    ]


def _device(row: str, sign: str) -> list[str]:
    """A confirmed device that is the account's only one changes the count of every org
    where the account is a confirmed member: one fewer without (NEW), one more (OLD)."""
    fewer_without = "-" if sign == "+" else "+"  # a device added is one fewer without
    return [
        f"""UPDATE {FIGURES} SET without_two_step = without_two_step {fewer_without} 1
        WHERE {row}.confirmed AND {_no_device(f"{row}.user_id", other_than=f"{row}.id")}
          AND org_id IN (SELECT org_id FROM clients_membership
                         WHERE user_id = {row}.user_id AND status = 'confirmed')"""
    ]


def _policy(row: str, sign: str) -> list[str]:
    return [
        f"""UPDATE {FIGURES} SET policies_enabled = policies_enabled {sign} 1
        WHERE org_id = {row}.org_id AND {row}.enabled"""
    ]


def _invitation(row: str, sign: str) -> list[str]:
    org = f"(SELECT org_id FROM clients_membership WHERE id = {row}.membership_id)"
    return _pending_recount(org)


def _event(row: str, sign: str, *, minus_resolution: str) -> list[str]:
    return [
        f"""UPDATE {FIGURES} SET last_activity = {row}.occurred_at
        WHERE org_id = {row}.org_id
          AND (last_activity IS NULL OR last_activity < {minus_resolution})"""
    ]


def _org_new(row: str, sign: str) -> list[str]:
    return [
        f"INSERT INTO {FIGURES} (org_id, name, provider_id) "
        f"VALUES ({row}.id, {row}.name, {row}.provider_id)"
    ]


def _org_changed(row: str, sign: str) -> list[str]:
    if sign == "-":
        return []
    return [
        f"UPDATE {FIGURES} SET name = {row}.name, provider_id = {row}.provider_id "
        f"WHERE org_id = {row}.id"
    ]


# name: (table, what a row adds/takes away, the events, the columns whose change matters)
def _triggers(vendor: str) -> dict:
    resolution = int(LAST_ACTIVITY_RESOLUTION.total_seconds())
    minus = (
        f"NEW.occurred_at - interval '{resolution} seconds'"
        if vendor == "postgresql"
        else f"strftime('%Y-%m-%d %H:%M:%f', NEW.occurred_at, '-{resolution} seconds')"
    )
    return {
        "membership": ("clients_membership", _membership, "IUD", ("status", "user_id", "org_id")),
        "device": ("otp_totp_totpdevice", _device, "IUD", ("confirmed", "user_id")),
        "policy": ("policies_policy", _policy, "IUD", ("enabled", "org_id")),
        "invitation": (
            "portal_invitation",
            _invitation,
            "IUD",
            ("used_at", "expires_at", "membership_id"),
        ),
        "event": (
            "portal_event",
            lambda row, sign: _event(row, sign, minus_resolution=minus),
            "I",
            (),
        ),
        "org_new": ("clients_organization", _org_new, "I", ()),
        "org_changed": ("clients_organization", _org_changed, "U", ("name", "provider_id")),
    }


def _changed(columns, *, postgres: bool) -> str:
    different = "IS DISTINCT FROM" if postgres else "IS NOT"
    return " OR ".join(f"OLD.{column} {different} NEW.{column}" for column in columns)


def _statements(build, op: str) -> list[str]:
    """What the trigger runs for one kind of statement: take the old row away, add the new."""
    old = build("OLD", "-") if op in "UD" else []
    new = build("NEW", "+") if op in "IU" else []
    return old + new


_OPS = {"I": "INSERT", "U": "UPDATE", "D": "DELETE"}

# An account's "has an authenticator" is read by the membership trigger and changed by
# the device trigger: both lock the account row first (Postgres; SQLite runs one writer at
# a time), so a member confirmed while their authenticator is added or removed is counted
# by whichever of the two commits second.
_ACCOUNT_LOCKS = {
    "membership": ("SHARE", "{row}.status = 'confirmed'"),
    "device": ("NO KEY UPDATE", "{row}.confirmed"),
}


def _account_locks(name: str, op: str) -> list[str]:
    if name not in _ACCOUNT_LOCKS:
        return []
    mode, condition = _ACCOUNT_LOCKS[name]
    rows = (["OLD"] if op in "UD" else []) + (["NEW"] if op in "IU" else [])
    return [
        f"PERFORM 1 FROM portal_user WHERE id = {row}.user_id "
        f"AND {condition.format(row=row)} FOR {mode}"
        for row in rows
    ]


def _trigger_name(name: str, op: str) -> str:
    return f"clients_figures_{name}_{op.lower()}"


def _postgres_functions() -> list[str]:
    """One plpgsql function per table; replaced at every install, so that a new version's
    statements take effect."""
    functions = []
    for name, (_table, build, ops, _columns) in _triggers("postgresql").items():
        branches = []
        for op in ops:
            body = ";\n".join(_account_locks(name, op) + _statements(build, op))
            branches.append(f"IF TG_OP = '{_OPS[op]}' THEN\n{body};\nEND IF;")
        functions.append(
            f"CREATE OR REPLACE FUNCTION clients_figures_{name}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$\nBEGIN\n{chr(10).join(branches)}\nRETURN NULL;\nEND $$"
        )
    return functions


def _trigger_sql(vendor: str) -> dict[str, tuple[str, str]]:
    """Each trigger's name: (its table, the statement creating it)."""
    postgres = vendor == "postgresql"
    triggers = {}
    for name, (table, build, ops, columns) in _triggers(vendor).items():
        for op in ops:
            event = _OPS[op] + (f" OF {', '.join(columns)}" if op == "U" else "")
            when = ""
            if op == "U":
                changed = _changed(columns, postgres=postgres)
                when = f" WHEN ({changed})" if postgres else f" WHEN {changed}"
            if postgres:
                action = f"EXECUTE FUNCTION clients_figures_{name}()"
            else:
                # Row locks are Postgres's: SQLite runs one writing transaction at a time.
                statements = [s for s in _statements(build, op) if not s.startswith("PERFORM")]
                action = f"BEGIN {';'.join(statements)}; END"
            trigger = _trigger_name(name, op)
            triggers[trigger] = (
                table,
                f"CREATE TRIGGER {trigger} AFTER {event} ON {table} FOR EACH ROW{when} {action}",
            )
    return triggers


def _installed(connection) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'clients_figures_%'")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'clients_figures_%'"
            )
        return {row[0] for row in cursor.fetchall()}


def figures_triggers_ensure(*, using: str = "default") -> bool:
    """Install the triggers (a missing one, and each one's current statements); when one
    was missing, recount every org's figures, since what happened meanwhile was not
    counted. True when it recounted. With the figures table gone (migrated back), drop
    the triggers, which would fail without it."""
    from .services.figures import client_figures_recount

    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        return False
    triggers = _trigger_sql(connection.vendor)
    installed = _installed(connection)
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if FIGURES not in connection.introspection.table_names(cursor):
            for trigger in installed & triggers.keys():
                table = triggers[trigger][0]
                cursor.execute(
                    f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if postgres else "")
                )
            return False
        for function in _postgres_functions() if postgres else []:
            cursor.execute(function)
        for trigger, (_table, create) in triggers.items():
            if postgres and trigger in installed:
                continue  # its function was replaced above
            if not postgres:
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            cursor.execute(create)
        missing = bool(triggers.keys() - installed)
        if missing:
            client_figures_recount(using=using)
    return missing
