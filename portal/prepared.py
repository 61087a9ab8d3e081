"""Querysets of a fixed shape, built and compiled to SQL once per process.

Django builds a queryset's SQL afresh each time it is evaluated. For the few queries
that every signed-in page runs (the actor's org with its ties, the item with its keys)
that costs several times the database's own work: the actor's query took about 3 ms of
Python to build and compile against 0.2 ms to run and read.

A `PreparedQuery` builds its queryset once per process and shape, from placeholder
arguments, keeps the SQL and the compiler's column map, and from then on only runs
the SQL with the real arguments and makes the same model instances that the queryset
would have made (select_related objects and annotations included). On PostgreSQL the
statement is also prepared on the server, once per connection (`_cursor`), so that it is
no longer planned each time either. Its cursor is wrapped as Django wraps its own, so
query counts in tests, the query log and the database's error handling see it as any
other query.

Arguments are values that never change the SQL's text: primary keys (UUIDs) and plain
strings compared for equality, or lists of them (`pk__in`: one shape per length).
Anything that changes the text (a flag that adds a join, a LIMIT) is a keyword `shape`
value: each distinct shape is compiled once. With `PREPARED_QUERIES_CHECKED` on (the
test suite), each run also builds and compiles the queryset with the real arguments and
fails loudly if its SQL or parameters differ.

`PreparedInsert` does the same for the INSERT of a new row (the "item viewed" event).
"""

from __future__ import annotations

import functools
import inspect
import threading
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Func, IntegerField, Model, QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.sql import InsertQuery

# Shapes kept per prepared query; past it the oldest is compiled again when next used.
_MAX_SHAPES = 64


class PreparedQueryMismatch(AssertionError):
    """The prepared SQL differs from what the queryset builds for the same arguments."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    # For each parameter: None (a constant of the shape) or where it comes from (`_slot`).
    slots: tuple[tuple[int, int | None, Callable[[Any], Any]] | None, ...]
    compiler: Any
    converters: dict
    kind: str  # "models", "rows" or "flat"
    # For "models": the model, its columns, and how select_related rows and annotations
    # are set on each instance (as ModelIterable does).
    model: type[Model] | None = None
    model_columns: slice | None = None
    init_list: tuple[str, ...] = ()
    populators: tuple = ()
    annotations: tuple[tuple[str, int], ...] = ()


class PreparedQuery:
    """`build(*args, **shape)` returns the queryset; `fetch(*args, **shape)` its rows.

    `build` must give the same SQL for any arguments of the same shape: it may use its
    arguments only as values compared in the query, never to decide what to query.
    """

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._arity = sum(
            1
            for parameter in inspect.signature(build).parameters.values()
            if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        self._compiled: dict[Hashable, _Compiled] = {}
        self._lock = threading.Lock()

    def fetch(self, *args: Any, using: str = "default", **shape: Hashable) -> list:
        if len(args) != self._arity:
            raise TypeError(f"{self.build.__qualname__} takes {self._arity} arguments")
        connection = connections[using]
        # A list argument (the ids of a page) is as many parameters as it has values.
        lengths = tuple(len(arg) if isinstance(arg, list | tuple) else None for arg in args)
        compiled = self._compiled_for(connection, lengths, shape)
        if compiled is None:  # Django knows that no row can match (`pk__in=[]`)
            return []
        params = [
            param if slot is None else slot[2](_argument(args, slot))
            for param, slot in zip(compiled.params, compiled.slots, strict=True)
        ]
        if getattr(settings, "PREPARED_QUERIES_CHECKED", False):
            self._check(compiled, params, args, shape, using)
        with _cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return _instances(compiled, rows, using)

    def first(self, *args: Any, using: str = "default", **shape: Hashable):
        found = self.fetch(*args, using=using, **shape)
        return found[0] if found else None

    def _compiled_for(self, connection, lengths: tuple, shape: dict) -> _Compiled | None:
        key = (connection.alias, connection.vendor, lengths, tuple(sorted(shape.items())))
        try:
            return self._compiled[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._compiled:
                compiled = self._compile(connection, lengths, shape)
                if len(self._compiled) >= _MAX_SHAPES:  # lists of many lengths: keep some
                    self._compiled.pop(next(iter(self._compiled)))
                self._compiled[key] = compiled
            return self._compiled[key]

    def _compile(self, connection, lengths: tuple, shape: dict) -> _Compiled | None:
        # Ids as text: what each becomes in the parameters tells how to pass a real one.
        placeholders = [
            str(uuid.uuid4()) if length is None else [str(uuid.uuid4()) for _ in range(length)]
            for length in lengths
        ]
        queryset = self.build(*placeholders, **shape)
        if queryset._prefetch_related_lookups:
            raise TypeError("A prepared query cannot prefetch: prepare each query on its own.")
        compiler = queryset.query.get_compiler(connection=connection)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None
        slots = tuple(_slot(param, placeholders) for param in params)
        used = {slot[0] for slot in slots if slot is not None}
        if used != {i for i, length in enumerate(lengths) if length != 0}:
            raise TypeError(
                f"{self.build.__qualname__}: an argument is not a plain parameter of the SQL "
                "(only primary keys and strings compared for equality can be)."
            )
        iterable = queryset._iterable_class
        columns = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
        common = {
            "sql": sql,
            "params": tuple(params),
            "slots": slots,
            "compiler": compiler,
            "converters": compiler.get_converters(columns),
        }
        if iterable is ModelIterable:
            klass_info = compiler.klass_info
            first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            return _Compiled(
                **common,
                kind="models",
                model=klass_info["model"],
                model_columns=slice(first, last),
                init_list=tuple(c[0].target.attname for c in compiler.select[first:last]),
                populators=tuple(
                    get_related_populators(klass_info, compiler.select, connection.alias)
                ),
                annotations=tuple(compiler.annotation_col_map.items()),
            )
        if iterable in (ValuesListIterable, FlatValuesListIterable):
            kind = "flat" if iterable is FlatValuesListIterable else "rows"
            return _Compiled(**common, kind=kind)
        raise TypeError(f"{self.build.__qualname__}: only models and values_list() are prepared")

    def _check(self, compiled: _Compiled, params: list, args: tuple, shape: dict, using):
        queryset = self.build(*args, **shape)
        sql, expected = queryset.query.get_compiler(using=using).as_sql()
        if sql != compiled.sql or list(expected) != params:
            raise PreparedQueryMismatch(
                f"{self.build.__qualname__} builds other SQL for {args!r}: its shape depends "
                "on an argument."
            )


def _cursor(connection):
    """A cursor for SQL that never changes: on PostgreSQL one that prepares it on the
    server, once per connection, so that PostgreSQL stops planning it afresh each time
    (the actor's query took 0.6 ms to plan and 0.2 ms to run). Off with the setting
    PREPARED_STATEMENTS (behind a pooler that shares server connections between
    transactions, such as PgBouncer in transaction mode). Elsewhere Django's cursor."""
    if connection.vendor != "postgresql" or not settings.PREPARED_STATEMENTS:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        # Wrapped as Django wraps its cursors: errors, query logging and counts as usual.
        return connection._prepare_cursor(_preparing_cursor_class()(connection.connection))


@functools.cache
def _preparing_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Binds parameters on the server and prepares each statement (psycopg keeps up
        to `prepared_max` of them per connection)."""

        def _maybe_prepare_gen(self, pgq, *, prepare=None, binary=None):
            # psycopg does not keep the query of a prepared run, which Django's query log
            # (and the suite's query counts) read back: keep it, as for any other run.
            self._query = pgq
            return super()._maybe_prepare_gen(pgq, prepare=True, binary=binary)

    return PreparingCursor


def _slot(param: Any, placeholders: list):
    """Where a compiled parameter comes from: (argument, position in a list argument or
    None, conversion), from the placeholder it was made of. A uuid column made it a UUID
    (or, on databases without a uuid type, its hex); anything else kept the text."""
    for index, placeholder in enumerate(placeholders):
        values = placeholder if isinstance(placeholder, list) else [placeholder]
        for position, value in enumerate(values):
            where = (index, position if isinstance(placeholder, list) else None)
            if isinstance(param, uuid.UUID) and str(param) == value:
                return (*where, _as_uuid)
            if param == value:
                return (*where, str)
            if param == uuid.UUID(value).hex:  # SQLite
                return (*where, _as_hex)
    return None


def _argument(args: tuple, slot: tuple) -> Any:
    value = args[slot[0]]
    return value if slot[1] is None else value[slot[1]]


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _as_hex(value: Any) -> str:
    return _as_uuid(value).hex


def _instances(compiled: _Compiled, rows: list, using: str) -> list:
    """What ModelIterable / ValuesListIterable make of these rows."""
    if compiled.converters:
        rows = compiled.compiler.apply_converters(rows, compiled.converters)
    if compiled.kind == "flat":
        return [row[0] for row in rows]
    if compiled.kind == "rows":
        return [tuple(row) for row in rows]
    found = []
    for row in rows:
        obj = compiled.model.from_db(using, compiled.init_list, row[compiled.model_columns])
        for populator in compiled.populators:
            populator.populate(row, obj)
        for name, position in compiled.annotations:
            setattr(obj, name, row[position])
        found.append(obj)
    return found


_COUNT_ALL = Func(template="COUNT(*)", output_field=IntegerField())


def row_count(rows: QuerySet) -> QuerySet:
    """`rows.count()` as a query that returns one row, so that it can be prepared:
    `COUNT(*)` over `rows`, with no GROUP BY (`Count()` would group by the row)."""
    return rows.order_by().values_list(_COUNT_ALL, flat=True)


def attach_prefetched(obj: Model, name: str, objects: list) -> None:
    """Hand `obj` the rows of its many-to-many `name` read by a prepared query, as
    `prefetch_related(name)` would: `obj.<name>.all()` then answers without a query."""
    queryset = getattr(obj, name).all()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    obj.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


class PreparedInsert:
    """`obj.save()` of a new row of `model` (no signals, no update), with its INSERT
    compiled once per process: for the rows every page writes (the "item viewed" event).

    The values go through each field's `pre_save` and `get_db_prep_save`, as in `save()`,
    and the columns the database returns (the id) are set on `obj`.
    """

    def __init__(self, model: type[Model]):
        self.model = model
        meta = model._meta
        self.fields = [f for f in meta.local_concrete_fields if not f.generated]
        self.fields = [f for f in self.fields if f is not meta.auto_field]
        self.returning = meta.db_returning_fields
        self._compiled: dict[Hashable, tuple[str, Any]] = {}

    def insert(self, obj: Model, *, using: str = "default") -> None:
        if not obj._state.adding or obj.pk is not None:
            raise ValueError("PreparedInsert writes new rows only.")
        obj._prepare_related_fields_for_save(operation_name="save")  # as save() refuses
        connection = connections[using]
        key = (connection.alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(obj, connection)
        sql, returning_params = compiled
        params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in self.fields]
        params += list(returning_params)
        if getattr(settings, "PREPARED_QUERIES_CHECKED", False):
            if self._compile(obj, connection)[0] != sql:
                raise PreparedQueryMismatch(f"The INSERT of {self.model.__name__} changed shape.")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if self.returning and connection.features.can_return_columns_from_insert:
                values = connection.ops.fetch_returned_insert_columns(cursor, returning_params)
            else:
                table, column = self.model._meta.db_table, self.returning[0].column
                values = [connection.ops.last_insert_id(cursor, table, column)]
        for value, field in zip(values, self.returning, strict=False):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using

    def _compile(self, obj: Model, connection) -> tuple[str, Any]:
        query = InsertQuery(self.model)
        query.insert_values(self.fields, [obj])
        compiler = query.get_compiler(connection=connection)
        compiler.returning_fields = self.returning
        ((sql, _params),) = compiler.as_sql()
        return sql, compiler.returning_params
