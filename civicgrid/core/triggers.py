"""Install or drop the audit log's append-only triggers (see migration 0002).

Tests use these to check the triggers and to simulate a tamperer with schema rights.
"""

from importlib import import_module

from django.db import connection


def _migration():
    return import_module("civicgrid.core.migrations.0002_audit_append_only")


def _execute(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install_audit_triggers() -> None:
    mig = _migration()
    _execute({"sqlite": mig.SQLITE, "postgresql": mig.POSTGRES}[connection.vendor])


def drop_audit_triggers() -> None:
    mig = _migration()
    _execute({"sqlite": mig.SQLITE_DROP, "postgresql": mig.POSTGRES_DROP}[connection.vendor])
