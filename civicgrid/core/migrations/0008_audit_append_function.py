"""PostgreSQL only: `core_audit_append(entries jsonb)`, the audit append as one server-side
call, so that a write can append its audit rows in the same statement as its own rows
(core/audit.py `audit_append_argument`, used by the case intake). Each entry is hashed onto
its chain's locked head exactly as `audit_record_many` hashes in Python: the entry carries
its canonical content split around `chain_seq`, which only the head decides."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION core_audit_append(entries jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    e jsonb;
    head_chain smallint;
    head_seq bigint;
    head_hash varchar(64);
    digest varchar(64);
    appended integer := 0;
BEGIN
    FOR e IN SELECT value FROM jsonb_array_elements(entries) LOOP
        head_chain := (e->>'chain')::smallint;
        SELECT last_seq, last_hash INTO head_seq, head_hash
            FROM core_auditchainhead WHERE id = head_chain FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO core_auditchainhead (id, last_seq, last_hash)
                VALUES (head_chain, 0, repeat('0', 64)) ON CONFLICT (id) DO NOTHING;
            SELECT last_seq, last_hash INTO head_seq, head_hash
                FROM core_auditchainhead WHERE id = head_chain FOR UPDATE;
        END IF;
        head_seq := head_seq + 1;
        digest := encode(sha256(convert_to(
            head_hash || (e->>'pre') || head_seq::text || (e->>'post'), 'UTF8')), 'hex');
        INSERT INTO core_auditlog (chain, chain_seq, created_at, actor_id, actor_label, action,
                                   object_type, object_id, object_repr, changes, request_id,
                                   prev_hash, hash)
            VALUES (head_chain, head_seq, (e->>'created_at')::timestamptz,
                    (e->>'actor_id')::bigint, e->>'actor_label', e->>'action',
                    e->>'object_type', e->>'object_id', e->>'object_repr', e->'changes',
                    e->>'request_id', head_hash, digest);
        UPDATE core_auditchainhead SET last_seq = head_seq, last_hash = digest
            WHERE id = head_chain;
        appended := appended + 1;
    END LOOP;
    RETURN appended;
END $$;
"""
DROP = "DROP FUNCTION IF EXISTS core_audit_append(jsonb);"


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0007_audit_object_index")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
