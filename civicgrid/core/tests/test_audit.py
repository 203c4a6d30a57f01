import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from civicgrid.core.audit import audit_record, audit_verify_chain
from civicgrid.core.models import AuditLog
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
        "UPDATE core_auditlog SET object_id = 'forged' WHERE seq = 3",
        "DELETE FROM core_auditlog WHERE seq = 3",
        "DELETE FROM core_auditlog WHERE seq = 5",
    ],
)
def test_verify_detects_tampering(tamper):
    _rows()
    drop_audit_triggers()
    with connection.cursor() as c:
        c.execute(tamper)
    _, problems = audit_verify_chain()
    assert problems
    with pytest.raises(SystemExit) as exc:
        call_command("audit_verify")
    assert exc.value.code == 1
