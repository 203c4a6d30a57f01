"""Names of the append-only triggers, for tests that simulate an attacker with DDL rights."""

from django.db import connection


def drop_audit_triggers() -> None:
    """Remove the append-only triggers (what a tamperer with schema rights would do first)."""
    from importlib import import_module

    mig = import_module("civicgrid.core.migrations.0002_audit_append_only")
    statements = {"sqlite": mig.SQLITE_DROP, "postgresql": mig.POSTGRES_DROP}[connection.vendor]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
