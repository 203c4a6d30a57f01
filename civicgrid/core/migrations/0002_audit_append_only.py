"""Database triggers that refuse UPDATE and DELETE on the audit log, on both engines."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS core_auditlog_no_update BEFORE UPDATE ON core_auditlog
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS core_auditlog_no_delete BEFORE DELETE ON core_auditlog
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_auditlog_no_update;",
    "DROP TRIGGER IF EXISTS core_auditlog_no_delete;",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION core_auditlog_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER core_auditlog_no_update_delete BEFORE UPDATE OR DELETE ON core_auditlog
       FOR EACH ROW EXECUTE FUNCTION core_auditlog_append_only();""",
    """CREATE TRIGGER core_auditlog_no_truncate BEFORE TRUNCATE ON core_auditlog
       FOR EACH STATEMENT EXECUTE FUNCTION core_auditlog_append_only();""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS core_auditlog_no_update_delete ON core_auditlog;",
    "DROP TRIGGER IF EXISTS core_auditlog_no_truncate ON core_auditlog;",
    "DROP FUNCTION IF EXISTS core_auditlog_append_only();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        from django.conf import settings

        if not settings.AUDIT_DB_TRIGGERS:
            return
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
