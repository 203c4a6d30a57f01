"""Columns empty at intake are indexed only where set (migration cases/0009), and every
lookup by them still reads its partial index: on SQLite `INDEXED BY` fails to prepare when
the query does not imply the index's condition; on PostgreSQL the generic plan of a
prepared statement (what a pooled connection runs after five executions) must use it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from civicgrid.cases import scheduler
from civicgrid.cases.choices import Card
from civicgrid.cases.models import Case
from civicgrid.cases.models.case import PHONE_SET
from civicgrid.cases.services.intake import phone_index
from civicgrid.core.testing.plans import index_names as _index_names
from civicgrid.core.testing.plans import plan_with_index as _plan

from .factories import report

PARTIAL = {
    "case_merged_into_set",
    "case_assigned_region_set",
    "case_camera_set",
    "case_step_deadline_set",
    "case_phone_bidx_set",
    "case_active_deadline_set",
}
FULL_BEFORE = {  # as Django named them when the fields had db_index (0009 drops them)
    "cases_case_assigned_region_id_90f3d9c1",
    "cases_case_camera_id_2bba90a7",
    "cases_case_merged_into_id_1b4320d8",
    "cases_case_reporter_phone_bidx_24379dcd",
    "cases_case_reporter_phone_bidx_24379dcd_like",
    "cases_case_step_deadline_a46b3082",
    "case_active_deadline",
}


def test_unset_columns_have_partial_indexes_only(tree):
    names = _index_names("cases_case")
    assert PARTIAL <= names
    assert not FULL_BEFORE & names


def test_a_new_case_leaves_the_partially_indexed_columns_empty(tree, actors, category):
    """Why the indexes are partial: an intake puts nothing into them (unless a camera or a
    phone number comes with it), so they cost the intake no B-tree page."""
    case = report(actors, category)
    assert case.merged_into_id is None and case.assigned_region_id is None
    assert case.camera_id is None and case.step_deadline is None
    assert case.reporter_phone_bidx == ""


@pytest.mark.parametrize(
    ("lookup", "index"),
    [
        (lambda t: Case.objects.filter(merged_into_id=1), "case_merged_into_set"),
        (lambda t: Case.objects.filter(merged_into_id__in=[1, 2]), "case_merged_into_set"),
        (lambda t: Case.objects.filter(camera_id=1), "case_camera_set"),
        (lambda t: Case.objects.filter(assigned_region=t.grid_a), "case_assigned_region_set"),
        (
            lambda t: Case.objects.filter(PHONE_SET, reporter_phone_bidx=phone_index("138")),
            "case_phone_bidx_set",
        ),
        (lambda t: Case.objects.filter(step_deadline__lt=timezone.now()), "case_step_deadline_set"),
    ],
)
def test_lookups_by_a_set_column_read_its_partial_index(tree, lookup, index):
    assert index in _plan(lookup(tree), index)


def test_the_scheduler_reads_cases_due_by_a_deadline_index(tree):
    """Yellow cards are due by step_deadline: `<=` implies IS NOT NULL on both engines."""
    plan = _plan(scheduler._due(Card.YELLOW, timezone.now()), "case_step_deadline_set")
    assert "case_step_deadline_set" in plan or "case_active_deadline_set" in plan


def test_duplicate_links_of_a_case_read_the_pair_constraint(tree):
    """Links have no index of their own on `case` any more (migration cases/0010): the
    unique (case, candidate) constraint serves lookups by case on both engines."""
    from django.db import connection

    from civicgrid.cases.models import DuplicateCandidate

    names = _index_names("cases_duplicatecandidate")
    assert "cases_duplicatecandidate_case_id_940ca08e" not in names
    qs = DuplicateCandidate.objects.filter(case_id=5)
    if connection.vendor == "sqlite":  # an inline UNIQUE: SQLite names its index itself
        with connection.cursor() as cur:
            cur.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND "
                "tbl_name = 'cases_duplicatecandidate' AND sql IS NULL"
            )
            (pair,) = [row[0] for row in cur.fetchall()]
    else:
        pair = "one_link_per_pair"
    assert pair in _plan(qs, pair)
