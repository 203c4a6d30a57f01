"""Intake internals behind its speed: daily numbers on both engines, words stored for
duplicate detection, the staff notification task enqueued after commit."""

import datetime as dt

import pytest
import time_machine
from django.db import connection

from civicgrid.cases import dedup
from civicgrid.cases.models import Case, CaseSequence, Notification
from civicgrid.cases.services.numbering import next_number
from civicgrid.cases.services.tasks import NEW_CASE_VERB

from .factories import OUTSIDE, report

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai


def test_numbers_count_up_within_a_day_and_restart_the_next():
    first, second = next_number(NOON), next_number(NOON)
    tomorrow = next_number(NOON + dt.timedelta(days=1))
    assert first[:8] == second[:8] == "20260302" and len(first) == 13
    assert int(second[8:]) == int(first[8:]) + 1
    assert tomorrow[:8] == "20260303" and tomorrow[8:] == "00001"


def test_numbers_continue_after_the_row_counter_of_the_day():
    """Switching to the PostgreSQL sequence mid-day never repeats a number already given."""
    day = dt.date(2026, 3, 4)
    CaseSequence.objects.create(day=day, last=41)
    assert next_number(NOON + dt.timedelta(days=2)) == "2026030400042"


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_numbers_come_from_a_sequence_not_the_row():
    next_number(NOON + dt.timedelta(days=3))
    assert not CaseSequence.objects.filter(day=dt.date(2026, 3, 5)).exists()
    with connection.cursor() as c:
        c.execute("SELECT to_regclass('cases_case_no_20260305') IS NOT NULL")
        assert c.fetchone()[0]


def test_intake_stores_the_words_and_dedup_reads_them(actors, category):
    case = report(actors, category)
    case.refresh_from_db()
    assert "井盖" in case.text_tokens.split()
    assert dedup.stored_tokens(case.text_tokens) == dedup.tokens("井盖没了 估衣街井盖缺失")


def test_rows_without_stored_words_are_still_compared(actors, category):
    old = report(actors, category)
    Case.objects.filter(pk=old.pk).update(text_tokens=None)  # as before the field existed
    new = report(actors, category, key="again-2")
    assert [m.candidate_id for m in dedup.duplicates_find(new)] == [old.pk]


def test_grid_staff_hear_of_a_new_case_after_commit(
    actors, category, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case = report(actors, category)
    assert callbacks, "the task is enqueued on commit, not inside the transaction"
    told = Notification.objects.filter(case=case, verb=NEW_CASE_VERB)
    assert list(told.values_list("recipient", flat=True)) == [actors.worker.pk]
    assert case.number in told.get().text


def test_the_grid_worker_who_reports_is_not_told_of_their_own_case(
    actors, category, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = report(actors, category, reporter=actors.worker, source="grid_worker")
    assert not Notification.objects.filter(case=case, verb=NEW_CASE_VERB).exists()


def test_an_unlocated_case_is_announced_to_the_centre(
    actors, category, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        case = report(actors, category, point=OUTSIDE)
    told = set(
        Notification.objects.filter(case=case, verb=NEW_CASE_VERB).values_list(
            "recipient", flat=True
        )
    )
    assert actors.district_op.pk in told and actors.resident.pk not in told


def test_several_numbers_at_once_follow_on_from_single_ones():
    from civicgrid.cases.services.numbering import next_numbers

    first = next_number(NOON)
    batch = next_numbers(NOON, 3)
    after = next_number(NOON)
    values = [int(n[8:]) for n in [first, *batch, after]]
    assert values == list(range(values[0], values[0] + 5))


def test_the_idempotency_check_reads_its_partial_unique_index(tree, actors, category):
    """With a bound key alone, neither engine can prove the row lies in the partial index
    (key <> ''), and a PostgreSQL generic plan scanned the whole table on every intake."""
    from civicgrid.cases.services.intake import _BY_KEY_SQL

    report(actors, category, key="k1")
    sql = _BY_KEY_SQL + "reporter_id = %s LIMIT 1"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(
                "PREPARE idem(text, bigint) AS " + sql.replace("%s", "$1", 1).replace("%s", "$2")
            )
            cursor.execute("EXPLAIN EXECUTE idem('k1', 1)")
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("DEALLOCATE idem")
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, ["k1", actors.resident.pk])
            plan = " ".join(str(row) for row in cursor.fetchall())
    assert "case_idempotency_per_reporter" in plan
