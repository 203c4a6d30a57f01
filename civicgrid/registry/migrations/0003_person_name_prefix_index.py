"""Name-prefix search (`name LIKE '王秀%'`) through an index on both engines.

The plain btree on `name` serves such a LIKE on neither engine: SQLite's LIKE is
case-insensitive, so it only uses an index declared `COLLATE NOCASE`; PostgreSQL only uses a
default-opclass btree when the database collation is "C"/"POSIX" and otherwise needs
`varchar_pattern_ops`. Both are engine-specific, so they live here behind a vendor check
instead of in the model (DESIGN.md §4). Measured in bench/person_search_bench.py.
"""

from django.db import migrations

INDEX = "registry_person_name_prefix"


def create(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "registry_person" ("name" COLLATE NOCASE)'
        )
    elif connection.vendor == "postgresql" and not _c_collation(connection):
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "registry_person" '
            '("name" varchar_pattern_ops)'
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor in ("sqlite", "postgresql"):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


def _c_collation(connection) -> bool:
    """PostgreSQL uses the default btree for LIKE 'x%' only under C/POSIX (not C.UTF-8)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        return cursor.fetchone()[0] in ("C", "POSIX")


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_work_areas")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
