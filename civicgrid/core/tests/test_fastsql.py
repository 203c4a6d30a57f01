"""row_insert writes exactly what Model.save() would (auto_now, JSON, datetimes, nulls)."""

import datetime as dt

import pytest
from django.utils import timezone

from civicgrid.core.fastsql import row_insert, rows_fetch
from civicgrid.core.models import ImportJob

pytestmark = pytest.mark.django_db


def _job(**extra) -> ImportJob:
    return ImportJob(kind="people", original_name="名单.xlsx", **extra)


def test_row_insert_matches_save():
    started = timezone.now() - dt.timedelta(minutes=3)
    summary = {"rows": 3, "errors": [{"row": 2, "message": "校验码错误"}]}
    fast = row_insert(_job(started_at=started, dry_run_summary=summary))
    slow = _job(started_at=started, dry_run_summary=summary)
    slow.save()
    assert fast.pk and fast.pk != slow.pk and not fast._state.adding
    a, b = ImportJob.objects.get(pk=fast.pk), ImportJob.objects.get(pk=slow.pk)
    for field in ("kind", "original_name", "status", "started_at", "finished_at"):
        assert getattr(a, field) == getattr(b, field), field
    assert a.dry_run_summary == summary and a.created_at is not None
    assert a.created_at == fast.created_at  # auto_now_add filled in on the instance too


def test_rows_fetch_takes_parameters_not_text():
    row_insert(_job())
    hostile = "x' OR '1'='1"
    assert rows_fetch("SELECT id FROM core_importjob WHERE kind = %s", [hostile]) == []
    assert len(rows_fetch("SELECT id FROM core_importjob WHERE kind = %s", ["people"])) == 1


def test_rows_insert_sets_every_key_in_order_across_statements(monkeypatch):
    from civicgrid.core import fastsql

    monkeypatch.setattr(fastsql, "ROWS_PER_INSERT", 2)  # 5 rows: statements of 2, 2 and 1
    jobs = [ImportJob(kind="people", original_name=f"名单{i}.xlsx") for i in range(5)]
    fastsql.rows_insert(jobs)
    assert len({j.pk for j in jobs}) == 5 and not any(j._state.adding for j in jobs)
    for job in jobs:
        assert ImportJob.objects.get(pk=job.pk).original_name == job.original_name


def test_rows_insert_writes_a_given_primary_key():
    import uuid

    from django_tasks_db.models import DBTaskResult, get_date_max

    from civicgrid.core.fastsql import rows_insert

    row = DBTaskResult(
        id=uuid.uuid4(), args_kwargs={"args": [1], "kwargs": {}}, task_path="x.y",
        backend_name="default", run_after=get_date_max(),
    )  # fmt: skip
    rows_insert([row])
    stored = DBTaskResult.objects.get(pk=row.pk)
    assert stored.args_kwargs == {"args": [1], "kwargs": {}} and stored.enqueued_at is not None
