"""Every migration can run against a serving database, or says in its docstring that it
cannot (README, "Upgrades"): no operation that holds a long lock on, or rewrites, a table
that may be large, unless the migration's docstring speaks of the lock."""

from __future__ import annotations

import sys

import pytest
from django.db import migrations
from django.db.migrations.loader import MigrationLoader

PROJECT_APPS = ("portal", "clients", "providers", "policies", "vault")

# No SQL, or SQL that PostgreSQL 11+ runs without a long lock.
NO_LONG_LOCK = (
    migrations.CreateModel,
    migrations.AlterModelOptions,
    migrations.AlterModelManagers,
    migrations.AlterModelTable,  # a rename: quick, but the old code must not need it
)
# Build an index or validate a constraint over every row: fine on a table this migration
# creates, a long lock on an existing one.
SCANS_THE_TABLE = (migrations.AddIndex, migrations.AddConstraint)


def _project_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app in PROJECT_APPS:
            yield loader, app, name, migration


def _docstring(migration) -> str:
    return (sys.modules[migration.__module__].__doc__ or "").lower()


def _db_kwargs(field) -> tuple:
    _, path, args, kwargs = field.deconstruct()
    for attr in field.non_db_attrs:
        kwargs.pop(attr, None)
    return path, args, kwargs


def _problems(loader, app: str, name: str, migration) -> list[str]:
    created = {
        op.name.lower() for op in migration.operations if isinstance(op, migrations.CreateModel)
    }
    before = loader.project_state((app, name), at_end=False)
    problems = []
    for op in migration.operations:
        what = f"{type(op).__name__} {getattr(op, 'model_name', '') or getattr(op, 'name', '')}"
        if isinstance(op, NO_LONG_LOCK):
            continue
        if isinstance(op, SCANS_THE_TABLE):
            if op.model_name.lower() not in created:
                problems.append(f"{what}: builds over an existing table")
        elif isinstance(op, migrations.AddField):
            field = op.field
            if op.model_name.lower() in created:
                continue
            if field.db_index or field.unique or field.is_relation:
                problems.append(f"{what}.{op.name}: adds an index or a foreign key")
        elif isinstance(op, migrations.AlterField):
            old = before.models[app, op.model_name.lower()].fields[op.name]
            if _db_kwargs(old) != _db_kwargs(op.field):
                problems.append(f"{what}.{op.name}: changes the column")
        elif isinstance(op, (migrations.RunPython, migrations.RunSQL)):
            if not _docstring(migration):
                problems.append(f"{what}: a data migration without a docstring saying its cost")
        else:
            problems.append(f"{what}: removes, renames or rewrites")
    return problems


@pytest.mark.parametrize(
    "app, name",
    [(app, name) for _loader, app, name, _m in _project_migrations()],
)
def test_the_migration_runs_on_a_serving_database_or_says_so(app, name):
    loader = MigrationLoader(None, ignore_no_migrations=True)
    migration = loader.disk_migrations[app, name]
    if migration.initial or "lock" in _docstring(migration):
        return
    problems = _problems(loader, app, name, migration)
    assert not problems, (
        f"{app}/{name} could lock a large table: {problems}. Make it safe (a nullable or "
        "defaulted column, AddIndexConcurrently in a non-atomic migration...) or say in its "
        "docstring what it locks and for how long."
    )


def test_the_check_catches_an_index_on_an_existing_table():
    from django.db import models

    loader = MigrationLoader(None, ignore_no_migrations=True)
    app, name = "portal", "0007_event_request_id"
    migration = loader.disk_migrations[app, name]
    unsafe = type(migration)(name, app)
    unsafe.operations = [
        migrations.AddIndex("event", models.Index(fields=["request_id"], name="event_rid")),
        migrations.AddField("event", "x", models.CharField(max_length=5, db_index=True)),
        migrations.RemoveField("event", "details"),
    ]
    unsafe.__module__ = migration.__module__
    assert len(_problems(loader, app, name, unsafe)) == 3
