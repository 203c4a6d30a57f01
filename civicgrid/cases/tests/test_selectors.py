"""Queues and workbenches: the right cases, in a fixed number of queries."""

import pytest

from civicgrid.accounts.scope import scope_of
from civicgrid.cases import selectors, services
from civicgrid.cases.permissions import CaseNotFound

from .factories import OUTSIDE, make_category, report, to_status

pytestmark = pytest.mark.django_db


def numbers(qs):
    return {c.number for c in qs}


def test_centre_queue_buckets(tree, actors, category):
    new = report(actors, category)
    lost = report(actors, category, point=OUTSIDE)
    orphan = to_status(actors, report(actors, make_category(None, code="C0102")), tree, "accepted")
    returned = to_status(actors, report(actors, category), tree, "signed")
    services.case_return(case=returned, actor=actors.handler, reason="不归我们")
    ext = to_status(actors, report(actors, category), tree, "signed")
    services.case_extend_request(case=ext, actor=actors.handler, amount=1, reason="等配件")
    op, root = actors.operator, actors.district_op
    assert numbers(selectors.centre_queue(user=op, bucket="new")) == {new.number}
    assert numbers(selectors.centre_queue(user=root, bucket="unlocated")) == {lost.number}
    assert numbers(selectors.centre_queue(user=op, bucket="unlocated")) == set()
    assert orphan.number in numbers(selectors.centre_queue(user=op, bucket="no_department"))
    assert numbers(selectors.centre_queue(user=op, bucket="returned")) == {returned.number}
    assert numbers(selectors.centre_queue(user=op, bucket="extensions")) == {ext.number}
    counts = selectors.centre_queue_counts(user=op)
    assert counts["new"] == 1 and counts["returned"] == 1 and counts["extensions"] == 1
    far = ext.step_deadline.replace(year=ext.step_deadline.year + 1)
    assert ext.number in numbers(selectors.centre_queue(user=op, bucket="overdue", now=far))


def test_workbenches(tree, actors, category):
    to_sign = to_status(actors, report(actors, category), tree, "dispatched")
    in_hand = to_status(actors, report(actors, category), tree, "signed")
    handled = to_status(actors, report(actors, category), tree, "handled")
    h = actors.handler
    assert numbers(selectors.department_workbench(user=h, bucket="to_sign")) == {to_sign.number}
    assert numbers(selectors.department_workbench(user=h, bucket="in_hand")) == {in_hand.number}
    assert selectors.department_counts(user=h)["to_sign"] == 1
    w = actors.worker
    assert numbers(selectors.grid_workbench(user=w, bucket="to_verify")) == {handled.number}
    assert numbers(selectors.grid_workbench(user=actors.worker_b, bucket="to_verify")) == set()
    assert len(selectors.resident_cases(user=actors.resident)) == 3


def test_case_detail_with_timeline_and_not_found_for_outsiders(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "handled")
    detail = selectors.case_get(user=actors.operator, number=case.number)
    assert [e.action for e in detail.events.all()][-1] == "handle" and detail.light == "green"
    with pytest.raises(CaseNotFound):
        selectors.case_get(user=actors.outsider, pk=case.pk)


@pytest.mark.parametrize("n", [3, 12])
def test_lists_use_a_fixed_number_of_queries(tree, actors, category, n, django_assert_num_queries):
    for _ in range(n):
        to_status(actors, report(actors, category), tree, "dispatched")
    user = actors.operator
    scope_of(user), scope_of(actors.handler)  # cached on the user per request, as in a view
    with django_assert_num_queries(1):
        rows = list(selectors.case_list(user=user))
        [(c.category.parent.name, c.department and c.department.name, c.unit.code) for c in rows]
    assert len(rows) == n
    with django_assert_num_queries(1):
        list(selectors.department_workbench(user=actors.handler, bucket="to_sign"))
    with django_assert_num_queries(1):
        selectors.centre_queue_counts(user=user)
