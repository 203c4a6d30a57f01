"""Every legal transition through the services, and every illegal one."""

import pytest
from django.core.exceptions import ValidationError

from civicgrid.cases import services
from civicgrid.cases.choices import Action, Status
from civicgrid.cases.models import CaseEvent, Extension
from civicgrid.cases.workflow import TRANSITIONS, IllegalTransition, allowed_actions, transition_for
from civicgrid.core.models import AuditLog

from .factories import report, to_status

pytestmark = pytest.mark.django_db


def actions(case):
    return list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))


def test_full_loop_writes_one_timeline_row_per_move(tree, actors, category):
    case = report(actors, category)
    assert case.number.isdigit() and len(case.number) == 13
    assert case.status == Status.REPORTED and case.path == tree.units_a[0].path
    to_status(actors, case, tree, "rated")
    case.refresh_from_db()
    assert case.status == Status.RATED and case.rating == 5
    assert actions(case) == [
        "report", "accept", "dispatch", "sign", "handle", "verify_pass", "close", "rate",
    ]  # fmt: skip
    assert case.version == 7  # seven compare-and-set moves after the insert
    assert AuditLog.objects.filter(object_type="cases.case", object_id=str(case.pk)).count() == 8


def test_verify_fail_is_rework_back_to_the_department(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "handled")
    services.case_verify(case=case, actor=actors.worker, passed=False, reason="井盖仍缺")
    assert case.status == Status.DISPATCHED and case.rework_count == 1
    assert case.department == tree.dept and case.step == "handle"
    services.case_sign(case=case, actor=actors.handler)
    services.case_handle(case=case, actor=actors.handler, note="重新安装")
    services.case_verify(case=case, actor=actors.worker, passed=True)
    assert case.status == Status.CLOSED


def test_verify_fail_needs_a_reason(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "handled")
    with pytest.raises(ValidationError):
        services.case_verify(case=case, actor=actors.worker, passed=False)


def test_verify_without_auto_close_waits_for_the_centre(tree, actors, category, settings):
    settings.CASES_AUTO_CLOSE_ON_VERIFY = False
    case = to_status(actors, report(actors, category), tree, "handled")
    services.case_verify(case=case, actor=actors.worker, passed=True)
    assert case.status == Status.VERIFIED
    services.case_close(case=case, actor=actors.operator)
    assert case.status == Status.CLOSED and case.closed_at is not None


def test_reject_and_merge(tree, actors, category):
    a, b, c = (report(actors, category) for _ in range(3))
    services.case_reject(case=a, actor=actors.operator, reason="重复咨询")
    assert a.status == Status.REJECTED
    services.case_merge(case=b, into=c, actor=actors.operator)
    assert b.status == Status.MERGED and b.merged_into == c
    assert CaseEvent.objects.filter(case=c, action=Action.NOTE).exists()
    with pytest.raises(IllegalTransition):
        services.case_merge(case=c, into=c, actor=actors.operator)


def test_return_goes_back_to_the_centre_with_the_reason(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "signed")
    services.case_return(case=case, actor=actors.handler, reason="燃气泄漏,不属城管")
    assert case.status == Status.RETURNED and case.department is None and case.return_count == 1
    ev = CaseEvent.objects.filter(case=case, action=Action.RETURN).get()
    assert ev.reason == "燃气泄漏,不属城管" and ev.data["returned_by"] == tree.dept.name
    services.case_dispatch(case=case, actor=actors.operator, department=tree.dept)
    assert case.status == Status.DISPATCHED


def test_extension_approved_moves_the_deadline_and_says_why(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "signed")
    old = case.step_deadline
    services.case_extend_request(case=case, actor=actors.handler, amount=5, reason="等配件")
    assert case.extension_pending
    with pytest.raises(IllegalTransition):
        services.case_extend_request(case=case, actor=actors.handler, amount=1, reason="再等")
    ext = services.case_extend_decide(case=case, actor=actors.operator, approve=True, reason="同意")
    assert case.step_deadline > old and not case.extension_pending and case.extension_count == 1
    assert ext.old_deadline == old and ext.new_deadline == case.step_deadline
    ev = CaseEvent.objects.get(case=case, action=Action.EXTEND_APPROVE)
    assert ev.reason == "同意" and ev.data["old_deadline"] != ev.data["new_deadline"]


def test_extension_refused_keeps_the_deadline(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "signed")
    old = case.step_deadline
    services.case_extend_request(case=case, actor=actors.handler, amount=2, reason="人手不足")
    services.case_extend_decide(case=case, actor=actors.operator, approve=False, reason="可调配")
    assert case.step_deadline == old and not case.extension_pending
    assert Extension.objects.get(case=case).status == "refused"
    with pytest.raises(IllegalTransition):
        services.case_extend_decide(case=case, actor=actors.operator, approve=True)


def test_suspend_and_resume_restart_the_clock(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "signed")
    services.case_suspend(case=case, actor=actors.operator, reason="需列入改造计划")
    assert case.status == Status.SUSPENDED and case.step_deadline is None
    services.case_resume(case=case, actor=actors.operator)
    assert case.status == Status.SIGNED and case.step == "handle" and case.step_deadline


def test_reopen_within_seven_days_only(tree, actors, category):
    import datetime as dt

    case = to_status(actors, report(actors, category), tree, "rated")
    late = case.closed_at + dt.timedelta(days=8)
    with pytest.raises(IllegalTransition):
        services.case_reopen(case=case, actor=actors.resident, reason="又丢了", now=late)
    services.case_reopen(case=case, actor=actors.resident, reason="又丢了")
    assert case.status == Status.ACCEPTED and case.reopen_count == 1 and case.rating is None
    assert case.suggested_department == tree.dept


def test_grid_level_work_escalates_upward(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "accepted")
    services.case_dispatch(case=case, actor=actors.operator, region=tree.grid_a)
    assert case.is_grid_level
    services.case_sign(case=case, actor=actors.worker)
    services.case_escalate(case=case, actor=actors.worker, reason="网格无法解决")
    assert case.assigned_region == tree.community and case.status == Status.DISPATCHED
    services.case_escalate(case=case, actor=actors.operator, reason="社区无法解决")
    assert case.assigned_region == tree.street
    services.case_escalate(case=case, actor=actors.district_op, reason="街道无法解决")
    assert case.assigned_region == tree.district
    with pytest.raises(IllegalTransition, match="最高层级"):
        services.case_escalate(case=case, actor=actors.district_op, reason="再上报")


def test_department_cases_do_not_escalate(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "dispatched")
    with pytest.raises(IllegalTransition):
        services.case_escalate(case=case, actor=actors.handler, reason="x")


def test_small_thing_on_the_spot_is_still_verified_by_someone_else(tree, actors, category):
    from civicgrid.cases.choices import Source

    case = report(
        actors, category, source=Source.GRID_WORKER, reporter=actors.worker,
        handled_on_spot=True, handle_note="和邻居一起清理了",
    )  # fmt: skip
    assert case.status == Status.HANDLED and case.handled_on_spot and case.step == "verify"
    assert actions(case) == ["report", "handle_on_spot"]
    with pytest.raises(IllegalTransition):
        services.case_verify(case=case, actor=actors.worker, passed=True)
    services.case_verify(case=case, actor=actors.operator, passed=True)
    assert case.status == Status.CLOSED


def test_on_the_spot_needs_grid_staff(tree, actors, category):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        report(actors, category, handled_on_spot=True, handle_note="自己修好了")


ALL_STATUSES = list(Status)


@pytest.mark.parametrize(
    ("action", "status"),
    [(a, s) for a, t in TRANSITIONS.items() for s in ALL_STATUSES if s not in t.sources],
)
def test_every_illegal_move_is_refused_with_a_reason(action, status):
    with pytest.raises(IllegalTransition) as info:
        transition_for(action, status)
    assert info.value.message and info.value.status == status


def test_services_refuse_illegal_moves_before_writing(tree, actors, category):
    case = report(actors, category)
    for call in (
        lambda: services.case_sign(case=case, actor=actors.handler),
        lambda: services.case_handle(case=case, actor=actors.handler, note="x"),
        lambda: services.case_verify(case=case, actor=actors.worker, passed=True),
        lambda: services.case_close(case=case, actor=actors.operator),
        lambda: services.case_rate(case=case, actor=actors.resident, rating=5),
        lambda: services.case_resume(case=case, actor=actors.operator),
        lambda: services.case_reopen(case=case, actor=actors.resident, reason="x"),
    ):
        with pytest.raises(IllegalTransition):
            call()
    assert actions(case) == ["report"] and case.version == 0


def test_allowed_actions_lists_the_table():
    assert set(allowed_actions(Status.SIGNED)) >= {"handle", "return", "extend_request"}
    assert allowed_actions(Status.REJECTED) == []


def test_rating_must_be_1_to_5(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "closed")
    for bad in (0, 6, "5", True):
        with pytest.raises(ValidationError):
            services.case_rate(case=case, actor=actors.resident, rating=bad)
