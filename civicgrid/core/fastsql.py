"""Hand-built SQL for the few statements on the hottest write paths (case intake, the audit
append), where the ORM's per-call query compilation was most of the CPU time.

`row_insert` writes one model instance with an INSERT built once per model and database
vendor, with values prepared by each field exactly as `Model.save()` would prepare them
(`pre_save` for auto_now fields, `get_db_prep_save` for JSON, datetimes, foreign keys). It
skips `save()` overrides and model signals, so it is only for models that have neither, and
it goes through Django's cursor wrapper, so query counting and logging still see it.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.fields import AutoFieldMixin

_INSERTS: dict[tuple[type[models.Model], str], tuple[str, list[models.Field]]] = {}


def _insert_sql(model: type[models.Model]) -> tuple[str, list[models.Field]]:
    key = (model, connection.vendor)
    found = _INSERTS.get(key)
    if found is None:
        meta, qn = model._meta, connection.ops.quote_name
        fields = [f for f in meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
        columns = ", ".join(qn(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks}) "
            f"RETURNING {qn(meta.pk.column)}"
        )
        found = _INSERTS[key] = (sql, fields)
    return found


def row_insert(obj: models.Model) -> models.Model:
    """INSERT `obj` (its primary key must be an auto field) and set its pk; returns it."""
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: ~60 fields each look it up
    sql, fields = _insert_sql(type(obj))
    values = [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]
    with conn.cursor() as cursor:
        cursor.execute(sql, values)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = conn.alias
    return obj


def rows_fetch(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
