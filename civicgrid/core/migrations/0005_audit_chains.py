"""Several audit hash chains (core/audit.py): chain and position per row.

Existing rows stay as they are (chain 1, chain_seq NULL) and are verified in their old
format. Two repairs the new columns need:

* SQLite rebuilds the table to add a NOT NULL column, which drops its append-only triggers;
  they are installed again (when AUDIT_DB_TRIGGERS is on, as migration 0002 does).
* `seq` used to be set by the writer (head + 1), so PostgreSQL's identity sequence behind it
  never moved; it is now left to the database, so the sequence is moved past the last row.
"""

from django.db import migrations, models

PG_RESYNC_SEQ = """
    SELECT setval(pg_get_serial_sequence('core_auditlog', 'seq'),
                  GREATEST(COALESCE(MAX(seq), 0), 1), MAX(seq) IS NOT NULL)
    FROM core_auditlog
"""


def _after_columns(apps, schema_editor):
    from django.conf import settings

    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_RESYNC_SEQ)
    elif vendor == "sqlite" and settings.AUDIT_DB_TRIGGERS:
        from importlib import import_module

        for sql in import_module("civicgrid.core.migrations.0002_audit_append_only").SQLITE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_holiday"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditlog",
            name="chain",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="链"),
        ),
        migrations.AddField(
            model_name="auditlog",
            name="chain_seq",
            field=models.BigIntegerField(blank=True, null=True, verbose_name="链内序号"),
        ),
        migrations.AddConstraint(
            model_name="auditlog",
            constraint=models.UniqueConstraint(
                condition=models.Q(("chain_seq__isnull", False)),
                fields=("chain", "chain_seq"),
                name="auditlog_chain_position",
            ),
        ),
        migrations.RunPython(_after_columns, migrations.RunPython.noop),
    ]
