import datetime as dt
from importlib import import_module

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from civicgrid.core import audit
from civicgrid.core.audit import audit_record, audit_verify_chain, chain_for
from civicgrid.core.models import AuditChainHead, AuditLog
from civicgrid.core.testing.plans import index_names, plan_with_index
from civicgrid.core.triggers import drop_audit_triggers, install_audit_triggers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _triggers(db):
    # Inside the test transaction: DDL is rolled back with it on both engines.
    install_audit_triggers()


def _rows(n=5):
    return [audit_record(action="create", object_type="t.x", object_id=str(i)) for i in range(n)]


def test_chain_intact_after_appends():
    _rows()
    checked, problems = audit_verify_chain()
    assert checked == 5 and problems == []
    call_command("audit_verify")


def test_orm_refuses_update_and_delete():
    row = _rows(1)[0]
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()


def test_database_trigger_refuses_raw_update():
    _rows(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE core_auditlog SET object_id = 'x'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM core_auditlog")


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE core_auditlog SET object_id = 'forged' WHERE seq = {third}",
        "DELETE FROM core_auditlog WHERE seq = {third}",
        "DELETE FROM core_auditlog WHERE seq = {last}",
    ],
)
def test_verify_detects_tampering(tamper):
    rows = _rows()  # seq is an identity column: not 1..5 on PostgreSQL after other tests
    drop_audit_triggers()
    with connection.cursor() as c:
        c.execute(tamper.format(third=rows[2].seq, last=rows[-1].seq))
    _, problems = audit_verify_chain()
    assert problems
    with pytest.raises(SystemExit) as exc:
        call_command("audit_verify")
    assert exc.value.code == 1


def _one_chain_rows(n=5):
    """n rows about one object: one chain, positions 1..n."""
    return [audit_record(action="change", object_type="t.x", object_id="same") for _ in range(n)]


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE core_auditlog SET object_repr = 'forged' WHERE chain_seq = 3",
        "DELETE FROM core_auditlog WHERE chain_seq = 3",
        "DELETE FROM core_auditlog WHERE chain_seq = 5",
    ],
    ids=["changed", "deleted-in-the-middle", "deleted-newest"],
)
def test_verify_detects_tampering_inside_one_chain(tamper):
    rows = _one_chain_rows()
    assert {r.chain for r in rows} == {chain_for("t.x", "same")}
    assert [r.chain_seq for r in rows] == [1, 2, 3, 4, 5]
    _rows(20)  # other chains stay intact and are walked too
    drop_audit_triggers()
    with connection.cursor() as c:
        c.execute(tamper)
    _, problems = audit_verify_chain()
    assert problems and {p.chain for p in problems} == {rows[0].chain}


def test_rows_spread_over_chains_each_with_its_head(settings):
    settings.AUDIT_CHAINS = 4
    rows = _rows(40)
    chains = {r.chain for r in rows}
    assert chains <= {1, 2, 3, 4} and len(chains) > 1
    for chain in chains:
        mine = sorted(r.chain_seq for r in rows if r.chain == chain)
        assert mine == list(range(1, len(mine) + 1))
        head = AuditChainHead.objects.get(pk=chain)
        assert head.last_seq == len(mine)
    assert audit_verify_chain() == (40, [])


def test_one_chain_setting_is_the_old_single_chain(settings):
    settings.AUDIT_CHAINS = 1
    assert {r.chain for r in _rows(6)} == {1}
    assert audit_verify_chain() == (6, [])


def test_rows_from_before_chains_are_verified_in_their_format():
    """Legacy rows: chain 1, chain_seq NULL, content hashed with the global seq."""
    prev = audit.GENESIS
    for seq in (1, 2, 3):
        fields = {
            "seq": seq, "created_at": dt.datetime.now(dt.UTC), "actor_id": None,
            "actor_label": "system", "action": "create", "object_type": "t.old",
            "object_id": str(seq), "object_repr": "", "changes": {}, "request_id": "",
        }  # fmt: skip
        digest = audit.row_hash(prev, fields)
        AuditLog.objects.create(prev_hash=prev, hash=digest, **fields)
        prev = digest
    AuditChainHead.objects.create(pk=1, last_seq=3, last_hash=prev)
    if connection.vendor == "postgresql":  # explicit seqs, as migration 0005 finds them
        migration = import_module("civicgrid.core.migrations.0005_audit_chains")
        with connection.cursor() as c:
            c.execute(migration.PG_RESYNC_SEQ)
    new = _rows(20)
    assert any(r.chain == 1 for r in new), "some new rows continue the legacy chain"
    assert audit_verify_chain() == (23, [])
    drop_audit_triggers()
    with connection.cursor() as c:
        c.execute("UPDATE core_auditlog SET object_id = 'forged' WHERE seq = 2")
    assert audit_verify_chain()[1]


def test_bulk_append_interleaves_with_single_appends_and_verifies():
    from civicgrid.core.audit import AuditEntry, audit_record_many

    _rows(3)
    entries = [AuditEntry("create", "t.bulk", str(i), f"#{i}", {"n": i}) for i in range(40)]
    with transaction.atomic():
        assert audit_record_many(entries) == 40
    _rows(2)
    assert audit_record_many([]) == 0
    bulk = AuditLog.objects.filter(object_type="t.bulk")
    assert bulk.count() == 40 and {r.chain for r in bulk} == {
        chain_for("t.bulk", str(i)) for i in range(40)
    }
    for row in bulk:
        assert row.chain == chain_for("t.bulk", row.object_id)
        assert row.changes == {"n": int(row.object_id)}
    heads = {h.pk: h.last_seq for h in AuditChainHead.objects.all()}
    for chain, last in heads.items():
        seqs = sorted(AuditLog.objects.filter(chain=chain).values_list("chain_seq", flat=True))
        assert seqs == list(range(1, last + 1))
    assert audit_verify_chain()[1] == []


def test_bulk_append_over_many_chains_costs_three_statements():
    """However many chains a batch touches: one read of the heads, one insert, one move."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from civicgrid.core.audit import AuditEntry, audit_record_many

    _rows(20)  # every head row exists
    entries = [AuditEntry("create", "t.many", str(i), f"#{i}", {"n": i}) for i in range(12)]
    chains = {chain_for("t.many", str(i)) for i in range(12)}
    assert len(chains) > 3
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        audit_record_many(entries)
    statements = [q["sql"] for q in ctx.captured_queries if "auditchainhead" in q["sql"]]
    assert len(statements) == 2 and len(ctx.captured_queries) == 3
    heads = {h.pk: (h.last_seq, h.last_hash) for h in AuditChainHead.objects.all()}
    for chain in chains:
        last = AuditLog.objects.filter(chain=chain).order_by("-chain_seq").first()
        assert heads[chain] == (last.chain_seq, last.hash)
    assert audit_verify_chain()[1] == []


def test_audit_rows_of_an_object_read_one_composite_index(db):
    names = index_names("core_auditlog")
    assert "auditlog_object" in names
    assert not {"core_auditlog_object_id_0c320e9b", "core_auditlog_object_type_0be9ff90"} & names
    qs = AuditLog.objects.filter(object_type="cases.case", object_id="7")
    assert "auditlog_object" in plan_with_index(qs, "auditlog_object")
    assert "auditlog_object" in plan_with_index(
        AuditLog.objects.filter(object_type="x"), "auditlog_object"
    )


@pytest.fixture
def pg_only():
    if connection.vendor != "postgresql":
        pytest.skip("core_audit_append is a PostgreSQL function (migration core/0008)")


TRICKY = [
    {"n": 1, "chain_seq": 0, "x": 'say "hi", ok'},  # the slot's text inside `changes`
    {"title": "井盖没了 🕳️", "path": "/1/2/", "quote": '","chain_seq":0,"'},
    {},
]


def test_server_side_append_hashes_as_python_does(pg_only):
    """Rows appended by `core_audit_append` verify with the Python walk, whatever their
    content holds, several to one chain in one call, onto existing and missing heads."""
    from civicgrid.core.audit import AuditEntry, Who, audit_append_argument

    _rows(3)
    used = set(AuditLog.objects.values_list("chain", flat=True))
    fresh = {chain_for("t.srv", str(i)) for i in range(3)} - used
    assert fresh  # a chain without rows: its head row is missing, the server creates it
    AuditChainHead.objects.filter(pk__in=fresh).delete()
    who = Who(7, '操作员 "甲"', "req-1")
    entries = [
        AuditEntry("create", "t.srv", str(i % 3), f"#{i} 案件", TRICKY[i % 3], who)
        for i in range(9)
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT core_audit_append(%s::jsonb)", [audit_append_argument(entries)])
        assert cursor.fetchone()[0] == 9
    rows = AuditLog.objects.filter(object_type="t.srv").order_by("seq")
    assert [(r.object_id, r.changes) for r in rows if r.object_id == "0"] == [("0", TRICKY[0])] * 3
    authors = {(r.actor_id, r.actor_label, r.request_id) for r in rows}
    assert authors == {(7, '操作员 "甲"', "req-1")}
    for object_id in "012":  # one object's rows keep their order in its chain
        seqs = [r.chain_seq for r in rows if r.object_id == object_id]
        assert seqs == sorted(seqs) and len(seqs) == 3
    assert audit_verify_chain()[1] == []
    _rows(2)  # Python appends go on from where the server left each head
    assert audit_verify_chain()[1] == []
