"""Hand-built SQL for the few statements on the hottest write paths (case intake, the audit
append), where the ORM's per-call query compilation was most of the CPU time.

`rows_insert` writes model instances with an INSERT built once per model, database vendor
and row count, with values prepared by each field exactly as `Model.save()` would prepare them
(`pre_save` for auto_now fields, `get_db_prep_save` for JSON, datetimes, foreign keys). It
skips `save()` overrides and model signals, so it is only for models that have neither, and
it goes through Django's cursor wrapper, so query counting and logging still see it.

Two helpers for the same paths: `model_new` builds an unsaved instance through Django's
positional constructor (a quarter of the keyword path's cost), and `json_transport` writes
JSON that only carries rows to PostgreSQL with orjson.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.fields import AutoFieldMixin
from psycopg.types.json import Jsonb

_INSERTS: dict[tuple, tuple[str, list[models.Field], bool]] = {}
_GETTERS: dict[tuple, list] = {}
M = TypeVar("M", bound=models.Model)
ROWS_PER_INSERT = 100  # rows per statement: keeps the parameter count far below SQLite's cap


@contextmanager
def kept_cursor() -> Iterator[Any]:
    """A cursor of the default connection for one-shot statements on the hot paths, kept on
    the connection instead of opened and closed each time: Django's `cursor()` costs about
    as much as a small SQLite statement (13 of 26 µs). Each use fetches its results before
    the next, so sharing one is safe. Where queries are logged (DEBUG, the test suite's
    query capture) it is a fresh cursor as before, so every statement is still seen."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.queries_logged:
        with conn.cursor() as cursor:
            yield cursor
        return
    conn.ensure_connection()
    kept = conn.__dict__.get("_fastsql_cursor")
    if kept is None or kept.cursor.connection is not conn.connection:
        kept = conn.__dict__["_fastsql_cursor"] = conn.cursor()
    yield kept


def _insert_sql(model: type[models.Model], rows: int) -> tuple[str, list[models.Field], bool]:
    """(SQL, fields, returns pk) for `rows` rows of `model`. An auto primary key is left to
    the database and returned; any other primary key (a UUID) is written like a field."""
    key = (model, connection.vendor, rows)
    found = _INSERTS.get(key)
    if found is None:
        meta, qn = model._meta, connection.ops.quote_name
        auto = isinstance(meta.pk, AutoFieldMixin)
        fields = [f for f in meta.concrete_fields if not (auto and f.primary_key)]
        columns = ", ".join(qn(f.column) for f in fields)
        group = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES {', '.join([group] * rows)}"
        if auto:
            sql += f" RETURNING {qn(meta.pk.column)}"
        found = _INSERTS[key] = (sql, fields, auto)
    return found


def insert_from_json(model: type[models.Model], *, with_pk: bool = False) -> str:
    """PostgreSQL: an INSERT of the rows in one JSON parameter (`json_rows`), to go inside
    another statement (a data-modifying `WITH`). Its text is the same however many rows
    there are: psycopg keeps the parsed text and the server a prepared plan, where a VALUES
    list of ~60 placeholders per row was longer than psycopg's cache and parsed again, and
    planned again, on every call. `with_pk` adds an auto primary key column first, for keys
    taken from its sequence beforehand."""
    key = (model, with_pk, "json")
    found = _INSERTS.get(key)
    if found is None:
        qn, table = connection.ops.quote_name, connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(qn(c) for c in _json_columns(model, with_pk))
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608 (names only)
            f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb)"
        )
        found = _INSERTS[key] = (sql, [], False)
    return found[0]


def json_rows(model: type[models.Model], rows: Sequence[list], *, with_pk: bool = False) -> str:
    """`insert_values` lists of `model` as the JSON parameter of `insert_from_json` (with the
    primary key first when `with_pk`)."""
    columns = _json_columns(model, with_pk)
    objects = [dict(zip(columns, row, strict=True)) for row in rows]
    return json_transport(objects, default=_json_value)


def json_transport(value: Any, *, default=None) -> str:
    """JSON that only carries values to PostgreSQL, which parses it (never hashed, shown or
    compared as text): orjson, which writes datetimes itself and a case's ~60 columns in a
    tenth of the stdlib's time (docs/BENCHMARKS.md, tenth session)."""
    return orjson.dumps(value, default=default).decode()


_JSON_COLUMNS: dict[tuple, list[str]] = {}


def _json_columns(model: type[models.Model], with_pk: bool) -> list[str]:
    """The JSON rows' keys, once per process: worked out on every call they were a sixth of
    the intake's statement building (three lookups through the connection proxy each)."""
    found = _JSON_COLUMNS.get((model, with_pk))
    if found is None:
        _, fields, auto = _insert_sql(model, 1)
        columns = [f.column for f in fields]
        found = [model._meta.pk.column, *columns] if auto and with_pk else columns
        _JSON_COLUMNS[model, with_pk] = found
    return found


def _json_value(value: Any) -> Any:
    """A prepared value JSON cannot hold, in the text form PostgreSQL reads for its column."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, Jsonb):  # a JSONField's value, as Django wraps it for psycopg
        return value.obj
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def model_new(model: type[M], **values: Any) -> M:
    """An unsaved instance of `model`, as `model(**values)` makes it, in a quarter of the
    time: Django's keyword path looks every field up in the keywords and runs the related
    fields' descriptors (~35 µs for a case's 58 fields); this fills the positional path from
    the fields' defaults. A related object given by field name (`category=obj`) sets the id
    and the cached object, as the keyword path does; an unknown name raises TypeError."""
    attnames, fixed, dynamic, relations = _model_plan(model)
    row = dict(fixed)
    for name in dynamic:
        row[name] = dynamic[name]()
    related = []
    for name, value in values.items():
        field = relations.get(name)
        if field is not None:
            row[field.attname] = None if value is None else value.pk
            related.append((field, value))
        elif name in row:
            row[name] = value
        else:
            raise TypeError(f"{model.__name__} has no field {name!r}")
    obj = model(*[row[a] for a in attnames])
    for field, value in related:
        field.set_cached_value(obj, value)
    return obj


_PLANS: dict[type, tuple] = {}


def _model_plan(model: type[models.Model]) -> tuple:
    """(attnames in order, constant defaults, callable defaults, relations by name)."""
    found = _PLANS.get(model)
    if found is None:
        fields = model._meta.concrete_fields
        made = {f for f in fields if f.has_default() and callable(f.default)}  # uuid4, now
        fixed = {f.attname: f.get_default() for f in fields if f not in made}
        dynamic = {f.attname: f.get_default for f in made}
        relations = {f.name: f for f in fields if f.is_relation}
        found = _PLANS[model] = ([f.attname for f in fields], fixed, dynamic, relations)
    return found


def row_insert(obj: models.Model) -> models.Model:
    """INSERT `obj` and set its pk (when the database assigns it); returns it."""
    rows_insert([obj])
    return obj


def insert_values(obj: models.Model) -> list[Any]:
    """The values `rows_insert` sends for `obj`, prepared now (e.g. before taking a lock);
    `insert_position` says where a column sits, to put in a value known only later."""
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: ~60 fields each look it up
    return [get(obj, conn) for get in _getters(type(obj), conn)]


# Django's own field classes whose `get_db_prep_save` sends a value of this type unchanged
# (exact classes: a subclass may prepare differently). Most of a case's ~60 columns are
# strings, numbers, flags and empty dates, and the full per-field path cost more CPU than
# the INSERT itself.
_UNCHANGED: dict[type, type] = {
    models.CharField: str, models.TextField: str, models.BooleanField: bool,
    models.FloatField: float, models.IntegerField: int, models.SmallIntegerField: int,
    models.BigIntegerField: int, models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int, models.AutoField: int, models.BigAutoField: int,
}  # fmt: skip
_PLAIN_PRE_SAVE = (models.Field.pre_save, models.DateField.pre_save, models.DateTimeField.pre_save)


def _getters(model: type[models.Model], conn) -> list:
    key = (model, conn.vendor)
    found = _GETTERS.get(key)
    if found is None:
        _, fields, _ = _insert_sql(model, 1)
        found = _GETTERS[key] = [_getter(f) for f in fields]
    return found


def _getter(field: models.Field):
    """A function (obj, connection) -> the value `Model.save()` would send for `field`: the
    field's full `pre_save` + `get_db_prep_save` path, short-cut where that path provably
    returns the value unchanged (None in a Django field, a str in a CharField...)."""
    auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    builtin = type(field).__module__.startswith("django.db.models.fields")
    if auto or type(field).pre_save not in _PLAIN_PRE_SAVE or not builtin:
        return lambda obj, conn: field.get_db_prep_save(field.pre_save(obj, True), conn)
    attname, target = field.attname, field.target_field if field.is_relation else field
    kind = _UNCHANGED.get(type(target)) if type(target).__module__.startswith("django.") else None

    def get(obj, conn):
        value = getattr(obj, attname)
        if value is None or (kind is str and isinstance(value, str)) or type(value) is kind:
            return value
        return field.get_db_prep_save(value, conn)

    return get


def insert_position(model: type[models.Model], attname: str) -> int:
    _, fields, _ = _insert_sql(model, 1)
    return next(i for i, f in enumerate(fields) if f.attname == attname)


def rows_insert(objs: Sequence[models.Model], prepared: Sequence[list] | None = None) -> None:
    """INSERT instances of one model, up to ROWS_PER_INSERT rows per statement, and set their
    auto primary keys. The keys come back in VALUES order, which Django's own bulk_create
    relies on for PostgreSQL and SQLite (≥ 3.35). `prepared`, if given, holds each object's
    `insert_values`."""
    conn = connections[DEFAULT_DB_ALIAS]
    for start in range(0, len(objs), ROWS_PER_INSERT):
        chunk = objs[start : start + ROWS_PER_INSERT]
        sql, fields, auto = _insert_sql(type(chunk[0]), len(chunk))
        if prepared is None:
            getters = _getters(type(chunk[0]), conn)
            values = [get(o, conn) for o in chunk for get in getters]
        else:
            values = [v for row in prepared[start : start + ROWS_PER_INSERT] for v in row]
        with kept_cursor() as cursor:
            cursor.execute(sql, values)
            if auto:
                for obj, row in zip(chunk, cursor.fetchall(), strict=True):
                    obj.pk = row[0]
        for obj in chunk:
            obj._state.adding = False
            obj._state.db = conn.alias


def values_insert(model: type[models.Model], rows: Sequence[list]) -> None:
    """INSERT rows given as `insert_values` lists, for a model whose primary key is not the
    database's to assign (nothing comes back), with no model instance behind them."""
    _, _, auto = _insert_sql(model, 1)
    if auto:
        raise ValueError(f"{model.__name__} has an auto primary key: use rows_insert")
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        sql, _, _ = _insert_sql(model, len(chunk))
        with kept_cursor() as cursor:
            cursor.execute(sql, [v for row in chunk for v in row])


def rows_fetch(sql: str, params: list[Any]) -> list[tuple]:
    with kept_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
