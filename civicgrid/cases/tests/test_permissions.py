"""Who may see and move a case: role and scope; outsiders get "not found"."""

import pytest
from django.core.exceptions import PermissionDenied

from civicgrid.accounts.choices import Role
from civicgrid.accounts.scope import scope_of
from civicgrid.cases import services
from civicgrid.cases.models import Case
from civicgrid.cases.permissions import CaseNotFound
from civicgrid.core.testing.factories import user_with_role
from civicgrid.grids import services as grid_services

from .factories import OUTSIDE, report, to_status

pytestmark = pytest.mark.django_db


def visible(user):
    return set(Case.objects.for_scope(scope_of(user)).values_list("pk", flat=True))


def test_scope_by_region_department_and_reporter(tree, actors, category):
    mine = report(actors, category)
    other = report(actors, category, point=(33.49, 119.17))  # 淮城街道
    lost = report(actors, category, point=OUTSIDE)
    assert not lost.located and lost.locate_reason == "不在管辖范围内"
    assert visible(actors.operator) == {mine.pk}
    assert visible(actors.outsider) == {other.pk}
    assert visible(actors.district_op) == {mine.pk, other.pk, lost.pk}  # root sees unlocated
    assert visible(actors.worker) == {mine.pk}
    assert visible(actors.worker_b) == set()
    assert visible(actors.resident) == {mine.pk, other.pk, lost.pk}  # their own reports
    assert visible(actors.handler) == set()  # nothing dispatched yet
    to_status(actors, mine, tree, "dispatched")
    assert visible(actors.handler) == {mine.pk}
    neighbour = user_with_role(Role.RESIDENT, tree.street, username="neighbour")
    assert visible(neighbour) == set()


def test_outsider_gets_not_found_and_wrong_role_forbidden(tree, actors, category):
    case = report(actors, category)
    with pytest.raises(CaseNotFound):
        services.case_accept(case=case, actor=actors.outsider)
    with pytest.raises(PermissionDenied):
        services.case_accept(case=case, actor=actors.worker)  # sees it, but not centre
    services.case_accept(case=case, actor=actors.operator)
    services.case_dispatch(case=case, actor=actors.operator, department=tree.dept)
    other_dept = grid_services.department_create(name="环保局", code="hb", region=tree.district)
    stranger = user_with_role(Role.HANDLER, tree.district, department=other_dept, username="hb1")
    with pytest.raises(CaseNotFound):
        services.case_sign(case=case, actor=stranger)
    with pytest.raises(PermissionDenied):
        services.case_sign(case=case, actor=actors.operator)
    services.case_sign(case=case, actor=actors.handler)
    services.case_handle(case=case, actor=actors.handler, note="已修复")
    with pytest.raises(CaseNotFound):
        services.case_verify(case=case, actor=actors.worker_b, passed=True)
    with pytest.raises(PermissionDenied):
        services.case_verify(case=case, actor=actors.resident, passed=True)
    services.case_verify(case=case, actor=actors.worker, passed=True)
    with pytest.raises(PermissionDenied):
        services.case_rate(case=case, actor=actors.operator, rating=5)
    services.case_rate(case=case, actor=actors.resident, rating=4, comment="及时")


def test_unlocated_case_must_be_relocated_before_accepting(tree, actors, category):
    from django.core.exceptions import ValidationError

    case = report(actors, category, point=OUTSIDE)
    with pytest.raises(CaseNotFound):
        services.case_accept(case=case, actor=actors.operator)  # street operator: not theirs
    with pytest.raises(ValidationError):
        services.case_accept(case=case, actor=actors.district_op)
    services.case_relocate(case=case, actor=actors.district_op, lat=33.49, lng=119.11)
    assert case.located and case.path == tree.units_a[0].path
    services.case_accept(case=case, actor=actors.operator)


def test_superuser_may_do_everything(tree, actors, category):
    admin = user_with_role("superuser", username="root")
    case = report(actors, category)
    services.case_accept(case=case, actor=admin)
    services.case_dispatch(case=case, actor=admin, department=tree.dept)
    services.case_sign(case=case, actor=admin)
