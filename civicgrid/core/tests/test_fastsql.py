"""row_insert writes exactly what Model.save() would (auto_now, JSON, datetimes, nulls)."""

import datetime as dt

import pytest
import time_machine
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


def _slow_values(obj) -> list:
    from django.db import connection

    from civicgrid.core.fastsql import _insert_sql

    _, fields, _ = _insert_sql(type(obj), 1)
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def _comparable(values: list) -> list:
    """psycopg's Jsonb wrappers compare by identity: compare what they wrap."""
    return [(type(v).__name__, v.obj) if type(v).__name__ == "Jsonb" else v for v in values]


def test_insert_values_are_what_the_fields_would_prepare():
    """The short cuts (None, plain str/int/bool/float) give exactly the full path's values,
    for choices (str enums), JSON, datetimes, foreign keys and UUID keys alike."""
    import uuid

    from django_tasks_db.models import DBTaskResult

    from civicgrid.cases.choices import Source, Status
    from civicgrid.cases.models import Case, CaseEvent
    from civicgrid.core.fastsql import insert_values

    now = timezone.now()
    case = Case(
        number="2026120500001", source=Source.RESIDENT, status=Status.REPORTED, title="井盖",
        lat=33.5, lng=119.1, located=True, reporter_id=7, created_at=now, updated_at=now,
        rating=2, unit_id=None, duplicate_suspected=False, version=1,
    )  # fmt: skip
    event = CaseEvent(case_id=3, action="report", data={"a": [1, "二"]}, at=now, actor_id=None)
    task = DBTaskResult(id=uuid.uuid4(), args_kwargs={"args": [1]}, run_after=now, priority=0)
    with time_machine.travel(now, tick=False):  # auto_now_add columns: the same instant
        for obj in (case, event, task, _job(started_at=now, dry_run_summary={"x": 1})):
            fast, slow = _comparable(insert_values(obj)), _comparable(_slow_values(obj))
            assert fast == slow, type(obj).__name__


def test_insert_values_fall_back_for_values_needing_preparation():
    """A value of another type than the field's (an int in a CharField, a str number in an
    IntegerField) still goes through the field, as save() would send it."""
    from civicgrid.cases.models import Case
    from civicgrid.core.fastsql import insert_values

    case = Case(title=123, rating="2", lat=33, located=1, version=True)
    assert _comparable(insert_values(case)) == _comparable(_slow_values(case))


def test_values_insert_writes_rows_and_refuses_database_assigned_keys():
    import uuid

    from django_tasks_db.models import DBTaskResult

    from civicgrid.core.fastsql import insert_values, values_insert

    now = timezone.now()
    tasks = [
        DBTaskResult(id=uuid.uuid4(), args_kwargs={"args": [i]}, run_after=now, task_path="t.x")
        for i in range(3)
    ]
    values_insert(DBTaskResult, [insert_values(t) for t in tasks])
    stored = DBTaskResult.objects.filter(task_path="t.x")
    assert sorted(t.args_kwargs["args"][0] for t in stored) == [0, 1, 2]
    assert {t.pk for t in stored} == {t.pk for t in tasks}
    with pytest.raises(ValueError, match="auto primary key"):
        values_insert(ImportJob, [insert_values(_job())])


def test_rows_sent_as_json_are_stored_as_rows_insert_stores_them():
    """PostgreSQL: `insert_from_json` + `json_rows` store every column exactly as the VALUES
    path does: datetimes with their microseconds, JSON, UUIDs, booleans, NULLs, quotes and
    Chinese text, an explicit auto key; and the statement text does not depend on the rows."""
    import uuid

    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from civicgrid.core.fastsql import insert_from_json, insert_values, json_rows, rows_insert

    if connection.vendor != "postgresql":
        pytest.skip("jsonb_populate_recordset is PostgreSQL's")
    now = timezone.now().replace(microsecond=123456)
    summary = {"rows": 3, "errors": [{"row": 2, "message": '校验码 "错误"'}]}
    jobs = [_job(started_at=now, dry_run_summary=summary), _job(finished_at=None)]
    copies = [_job(started_at=now, dry_run_summary=summary), _job(finished_at=None)]
    with time_machine.travel(now, tick=False):  # the same auto_now_add instant for both
        rows_insert(jobs)
        first_id = jobs[-1].pk + 100
        values = [[first_id + i, *insert_values(job)] for i, job in enumerate(copies)]
    assert insert_from_json(ImportJob, with_pk=True) == insert_from_json(ImportJob, with_pk=True)
    with connection.cursor() as cursor:
        cursor.execute(
            insert_from_json(ImportJob, with_pk=True), [json_rows(ImportJob, values, with_pk=True)]
        )
    for made, copy_id in zip(jobs, (first_id, first_id + 1), strict=True):
        a, b = (ImportJob.objects.filter(pk=pk).values().get() for pk in (made.pk, copy_id))
        assert a.pop("id") != b.pop("id") and a == b
    task = DBTaskResult(id=uuid.uuid4(), args_kwargs={"args": [1]}, run_after=now, task_path="t.j")
    with connection.cursor() as cursor:
        cursor.execute(
            insert_from_json(DBTaskResult), [json_rows(DBTaskResult, [insert_values(task)])]
        )
    stored = DBTaskResult.objects.get(pk=task.pk)
    assert stored.args_kwargs == {"args": [1]} and stored.run_after == now


def test_one_cursor_is_kept_per_connection_and_renewed_with_it():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from civicgrid.core.fastsql import kept_cursor

    with kept_cursor() as first:
        first.execute("SELECT 1")
        assert first.fetchall() == [(1,)]
    with kept_cursor() as again:
        assert again is first
        assert rows_fetch("SELECT %s", [2]) == [(2,)]
    with CaptureQueriesContext(connection) as ctx:  # logged: a fresh, logging cursor
        with kept_cursor() as logged:
            assert logged is not first
        assert rows_fetch("SELECT %s", [3]) == [(3,)]
    assert len(ctx.captured_queries) == 1


@pytest.mark.django_db(transaction=True)
def test_a_kept_cursor_does_not_outlive_its_connection():
    from django.db import connection

    from civicgrid.core.fastsql import kept_cursor

    with kept_cursor() as first:
        raw = connection.connection
    connection.close()  # (an in-memory SQLite test database stays open)
    assert rows_fetch("SELECT %s", [1]) == [(1,)]
    with kept_cursor() as second:
        assert second.cursor.connection is connection.connection
        assert (second is first) == (connection.connection is raw)


def test_model_new_makes_what_the_keyword_constructor_makes():
    from django_tasks_db.models import DBTaskResult

    from civicgrid.accounts.models import User
    from civicgrid.cases.models import Case
    from civicgrid.core.fastsql import model_new

    user = User(pk=7, username="u")
    now = timezone.now()
    values = dict(title="井盖没了", lat=33.5, located=True, reporter=user, camera=None,
                  created_at=now, unit_id=3)  # fmt: skip
    fast, slow = model_new(Case, **values), Case(**values)
    names = [f.attname for f in Case._meta.concrete_fields]
    assert [getattr(fast, n) for n in names] == [getattr(slow, n) for n in names]
    assert fast.reporter is user and fast.camera is None and fast._state.adding
    a, b = model_new(DBTaskResult, args_kwargs={}), model_new(DBTaskResult, args_kwargs={})
    assert a.id != b.id  # a callable default (uuid4) runs for each instance
    with pytest.raises(TypeError):
        model_new(Case, no_such_field=1)
