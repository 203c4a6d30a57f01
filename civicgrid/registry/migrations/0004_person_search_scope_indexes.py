"""Name prefix *within a scope*, in page order, through one index per plan on both engines.

The people page asks for `unit_path LIKE 'scope%' AND name LIKE 'q%' ORDER BY unit_path,
name, id LIMIT 30`. A bare surname (王, ~7 % of a million people) made both engines slow
(0.3–0.5 s): the existing `(unit_path, name)` btree takes neither LIKE as a range (SQLite's
LIKE needs NOCASE, PostgreSQL's needs "C" or pattern_ops), so walking it in page order
fetched and filtered table rows, and the name index instead left every match to fetch,
check for scope and sort.

PostgreSQL: two composite indexes in "C" collation, which take LIKE 'x%' as a range on both
columns and hold the page order (the selector orders by the same collation):
  - `(unit_path, name, id)`: scope range, name checked in the index, rows in page order —
    a common surname stops after the first page;
  - `(name, unit_path, id)`: name range, scope checked in the index, no table rows touched
    until the page — a rare prefix reads only its matches.
The planner picks between them by the prefix's frequency; both never read a table row that
does not match. They replace migration 0003's `name varchar_pattern_ops` (which duplicated
the `_like` index Django already makes for `name`).

SQLite: `(name COLLATE NOCASE, unit_path)` replaces 0003's `(name COLLATE NOCASE)`, so the
prefix scan checks the scope in the index; the model's `(unit_path, name)` serves the walk in
page order. Measured in bench/person_search_bench.py.
"""

from django.db import migrations

OLD = "registry_person_name_prefix"
PG_SCOPE_NAME = "registry_person_scope_name_c"
PG_NAME_SCOPE = "registry_person_name_scope_c"
SQLITE_NAME_SCOPE = "registry_person_name_scope"


def create(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{PG_SCOPE_NAME}" ON "registry_person" '
            '("unit_path" COLLATE "C", "name" COLLATE "C", "id")'
        )
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{PG_NAME_SCOPE}" ON "registry_person" '
            '("name" COLLATE "C", "unit_path" COLLATE "C", "id")'
        )
        schema_editor.execute(f'DROP INDEX IF EXISTS "{OLD}"')
    elif vendor == "sqlite":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{SQLITE_NAME_SCOPE}" ON "registry_person" '
            '("name" COLLATE NOCASE, "unit_path")'
        )
        schema_editor.execute(f'DROP INDEX IF EXISTS "{OLD}"')


def drop(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        if not _c_collation(schema_editor.connection):  # as 0003 made it
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{OLD}" ON "registry_person" '
                '("name" varchar_pattern_ops)'
            )
        schema_editor.execute(f'DROP INDEX IF EXISTS "{PG_SCOPE_NAME}"')
        schema_editor.execute(f'DROP INDEX IF EXISTS "{PG_NAME_SCOPE}"')
    elif vendor == "sqlite":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{OLD}" ON "registry_person" ("name" COLLATE NOCASE)'
        )
        schema_editor.execute(f'DROP INDEX IF EXISTS "{SQLITE_NAME_SCOPE}"')


def _c_collation(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        return cursor.fetchone()[0] in ("C", "POSIX")


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_person_name_prefix_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
