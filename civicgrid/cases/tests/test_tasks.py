"""The intake's task row is the row django-tasks' own enqueue would write: one per write
batch, telling each of its cases' staff."""

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from civicgrid.cases.models import Notification
from civicgrid.cases.services import tasks
from civicgrid.cases.services.tasks import (
    NEW_CASE_VERB,
    new_case_tasks_add,
    notify_new_case,
    notify_new_cases,
)

from .factories import report

pytestmark = pytest.mark.django_db

COMPARED = [f.attname for f in DBTaskResult._meta.concrete_fields if f.attname != "id"]


@pytest.fixture(autouse=True)
def _database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_a_batch_is_one_row_matching_the_backends_own_enqueue():
    with time_machine.travel(timezone.now(), tick=False):
        with transaction.atomic():
            new_case_tasks_add([41, 42])
        ours = list(DBTaskResult.objects.values(*COMPARED))
        DBTaskResult.objects.all().delete()
        notify_new_cases.enqueue([41, 42])
        theirs = list(DBTaskResult.objects.values(*COMPARED))
    assert ours == theirs and len(ours) == 1
    assert ours[0]["args_kwargs"] == {"args": [[41, 42]], "kwargs": {}}


def test_each_batch_has_its_own_task_id():
    for batch in ([1, 2, 3], [4], [5, 6]):
        with transaction.atomic():
            new_case_tasks_add(batch)
    assert DBTaskResult.objects.values("id").distinct().count() == 3


def test_no_cases_no_task():
    with transaction.atomic():
        new_case_tasks_add([])
    assert not DBTaskResult.objects.exists()


def test_a_later_batch_is_enqueued_at_its_own_time():
    """The shared part of the rows is prepared once per process; the enqueue time is not."""
    first = timezone.now().replace(microsecond=0)
    later = first + timezone.timedelta(minutes=5)
    for at, case_id in ((first, 1), (later, 2)):
        with time_machine.travel(at, tick=False), transaction.atomic():
            new_case_tasks_add([case_id])
    rows = DBTaskResult.objects.order_by("enqueued_at").values_list("enqueued_at", "args_kwargs")
    args = [{"args": [[n]], "kwargs": {}} for n in (1, 2)]
    assert list(rows) == [(first, args[0]), (later, args[1])]


def _told(case) -> int:
    return Notification.objects.filter(case=case, verb=NEW_CASE_VERB).count()


def test_the_batch_task_tells_each_cases_staff(actors, category):
    cases = [report(actors, category) for _ in range(2)]
    assert not Notification.objects.exists()  # queued as a row: nobody told yet
    told = notify_new_cases.call([c.pk for c in cases])
    assert told == sum(_told(c) for c in cases) and all(_told(c) for c in cases)


def test_one_case_failing_leaves_the_others_told_and_the_task_failed(actors, category, monkeypatch):
    cases = [report(actors, category) for _ in range(3)]
    real = tasks._new_case_notify

    def flaky(case_id: int) -> int:
        told = real(case_id)  # its rows are written, then the savepoint takes them back
        if case_id == cases[1].pk:
            raise RuntimeError("inbox unavailable")
        return told

    monkeypatch.setattr(tasks, "_new_case_notify", flaky)
    with pytest.raises(RuntimeError, match=str(cases[1].pk)):
        notify_new_cases.call([c.pk for c in cases])
    assert [bool(_told(c)) for c in cases] == [True, False, True]


def test_rows_queued_per_case_before_the_batch_task_still_run(actors, category):
    case = report(actors, category)
    assert notify_new_case.call(case.pk) == _told(case) > 0
