"""Writing many rows at once: COPY on Postgres (the import's hot path), bulk_create elsewhere.

An import writes up to 100,000 items and as many collection links in one transaction;
COPY skips building and planning one large INSERT per batch. Rows are tuples in the
order of `fields` (attribute names, as `org_id`); nothing here is specific to items.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

BATCH_SIZE = 1000


def rows_insert(model: type[models.Model], fields: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy(model, fields, rows)
    else:
        objects = [model(**dict(zip(fields, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=BATCH_SIZE)


def _copy(model: type[models.Model], fields: Sequence[str], rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"  # noqa: S608
    with connection.cursor() as cursor:
        with cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
