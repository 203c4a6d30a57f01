"""The intake's task rows are the rows django-tasks' own enqueue would write."""

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from civicgrid.cases.services.tasks import new_case_tasks_add, notify_new_case

pytestmark = pytest.mark.django_db

COMPARED = [f.attname for f in DBTaskResult._meta.concrete_fields if f.attname != "id"]


@pytest.fixture(autouse=True)
def _database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_rows_match_the_backends_own_enqueue():
    with time_machine.travel(timezone.now(), tick=False):
        with transaction.atomic():
            new_case_tasks_add([41, 42])
        ours = list(DBTaskResult.objects.order_by("args_kwargs").values(*COMPARED))
        DBTaskResult.objects.all().delete()
        for case_id in (41, 42):
            notify_new_case.enqueue(case_id)
        theirs = list(DBTaskResult.objects.order_by("args_kwargs").values(*COMPARED))
    assert ours == theirs and len(ours) == 2
    assert [row["args_kwargs"] for row in ours] == [
        {"args": [41], "kwargs": {}},
        {"args": [42], "kwargs": {}},
    ]


def test_each_row_has_its_own_id():
    with transaction.atomic():
        new_case_tasks_add([1, 2, 3])
    assert DBTaskResult.objects.values("id").distinct().count() == 3


def test_a_later_batch_is_enqueued_at_its_own_time():
    """The shared part of the rows is prepared once per process; the enqueue time is not."""
    first = timezone.now().replace(microsecond=0)
    later = first + timezone.timedelta(minutes=5)
    for at, case_id in ((first, 1), (later, 2)):
        with time_machine.travel(at, tick=False), transaction.atomic():
            new_case_tasks_add([case_id])
    rows = DBTaskResult.objects.order_by("enqueued_at").values_list("enqueued_at", "args_kwargs")
    args = [{"args": [n], "kwargs": {}} for n in (1, 2)]
    assert list(rows) == [(first, args[0]), (later, args[1])]
