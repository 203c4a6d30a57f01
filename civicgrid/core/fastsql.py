"""Hand-built SQL for the few statements on the hottest write paths (case intake, the audit
append), where the ORM's per-call query compilation was most of the CPU time.

`rows_insert` writes model instances with an INSERT built once per model, database vendor
and row count, with values prepared by each field exactly as `Model.save()` would prepare them
(`pre_save` for auto_now fields, `get_db_prep_save` for JSON, datetimes, foreign keys). It
skips `save()` overrides and model signals, so it is only for models that have neither, and
it goes through Django's cursor wrapper, so query counting and logging still see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.fields import AutoFieldMixin

_INSERTS: dict[tuple, tuple[str, list[models.Field], bool]] = {}
ROWS_PER_INSERT = 100  # rows per statement: keeps the parameter count far below SQLite's cap


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


def row_insert(obj: models.Model) -> models.Model:
    """INSERT `obj` and set its pk (when the database assigns it); returns it."""
    rows_insert([obj])
    return obj


def insert_values(obj: models.Model) -> list[Any]:
    """The values `rows_insert` sends for `obj`, prepared now (e.g. before taking a lock);
    `insert_position` says where a column sits, to put in a value known only later."""
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: ~60 fields each look it up
    _, fields, _ = _insert_sql(type(obj), 1)
    return [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]


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
            values = [f.get_db_prep_save(f.pre_save(o, True), conn) for o in chunk for f in fields]
        else:
            values = [v for row in prepared[start : start + ROWS_PER_INSERT] for v in row]
        with conn.cursor() as cursor:
            cursor.execute(sql, values)
            if auto:
                for obj, row in zip(chunk, cursor.fetchall(), strict=True):
                    obj.pk = row[0]
        for obj in chunk:
            obj._state.adding = False
            obj._state.db = conn.alias


def rows_fetch(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
