"""The centre's, the handlers' and the verifiers' moves. Each checks the workflow table and
the actor, then applies one compare-and-set move (see _core.move)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from civicgrid.grids.models import Department, Region

from .. import notify
from ..choices import Action, AreaClass, AttachmentKind, ExtensionStatus, Status, Step
from ..models import Case, Category, Extension
from ..permissions import require_visible
from ..workflow import IllegalTransition
from ._core import authorize, move, required_text, timeline_note
from .intake import _check_category, attachment_add, route_for

Files = Iterable  # uploaded files already validated by the upload layer


# --- the centre ------------------------------------------------------------------------------


def case_accept(
    *,
    case: Case,
    actor,
    category: Category | None = None,
    area_class: str | None = None,
    reason: str = "",
    version: int | None = None,
) -> Case:
    """立案: the case is real and ours. Classifies it and proposes the department."""
    authorize(case, actor, Action.ACCEPT)
    category = category or case.category
    if category is None:
        raise ValidationError({"category": ["立案前须选择案件类别"]}, code="category")
    _check_category(category)
    if not case.located:
        raise ValidationError({"lat": ["案件尚未定位,请先确定位置"]}, code="unlocated")
    if area_class is not None and area_class not in AreaClass.values:
        raise ValidationError({"area_class": ["区域分类无效"]}, code="area_class")
    dept, why = route_for(category, case.path)
    fields = {
        "category": category,
        "area_class": area_class or case.area_class,
        "suggested_department": dept,
        "routing_reason": why,
        "accepted_at": timezone.now(),
    }
    move(
        case=case,
        actor=actor,
        action=Action.ACCEPT,
        version=version,
        reason=reason,
        fields=fields,
        data={"suggested_department": getattr(dept, "code", None)},
    )
    notify.notify_reporter(case=case, verb="accepted", text=f"您反映的问题已立案({case.number})")
    return case


def case_reject(*, case: Case, actor, reason: str, version: int | None = None) -> Case:
    authorize(case, actor, Action.REJECT)
    reason = required_text(reason, "reason", "请填写不予立案的理由")
    move(case=case, actor=actor, action=Action.REJECT, version=version, reason=reason)
    notify.notify_reporter(
        case=case, verb="rejected", text=f"您反映的问题({case.number})未予立案:{reason}"
    )
    return case


def case_merge(
    *, case: Case, into: Case, actor, reason: str = "", version: int | None = None
) -> Case:
    """Fold a duplicate into the surviving case; every reporter of the duplicate (and of
    cases already merged into it) is told the survivor's number."""
    authorize(case, actor, Action.MERGE)
    require_visible(actor, into)
    if into.pk == case.pk or not into.is_open or into.status == Status.MERGED:
        raise IllegalTransition("只能合并到另一个办理中的案件", action=Action.MERGE)
    with transaction.atomic():
        move(
            case=case,
            actor=actor,
            action=Action.MERGE,
            version=version,
            reason=reason,
            fields={"merged_into": into, "duplicate_suspected": False},
            data={"into": into.number},
        )
        earlier = list(Case.objects.filter(merged_into=case).select_related("reporter"))
        Case.objects.filter(merged_into=case).update(merged_into=into)
        timeline_note(
            case=into, actor=actor, reason=f"合并了案件 {case.number}", data={"merged": case.number}
        )
        text = f"您反映的问题与案件 {into.number} 相同,已合并办理,请关注该案件进展"
        for c in [case, *earlier]:
            notify.notify_reporter(case=c, verb="merged", text=text)
    return case


def case_dispatch(
    *,
    case: Case,
    actor,
    department: Department | None = None,
    region: Region | None = None,
    reason: str = "",
    version: int | None = None,
) -> Case:
    """派遣 to a department, or to a grid (or a region above it) for grid-level work."""
    authorize(case, actor, Action.DISPATCH)
    if (department is None) == (region is None):
        raise ValidationError({"department": ["请选择处置部门或承办网格(二选一)"]}, code="target")
    if department is not None and not department.is_active:
        raise ValidationError({"department": ["该部门已停用"]}, code="department")
    if region is not None and not (case.path and case.path.startswith(region.path)):
        raise ValidationError({"region": ["承办网格须是案件所在网格或其上级"]}, code="region")
    fields = {
        "department": department,
        "assigned_region": region,
        "assigned_path": region.path if region else "",
        "dispatched_at": timezone.now(),
        "extension_pending": False,
    }
    target = department.name if department else region.name
    move(
        case=case,
        actor=actor,
        action=Action.DISPATCH,
        version=version,
        reason=reason,
        fields=fields,
        data={"to": target},
    )
    _cancel_pending_extensions(case)
    notify.notify_users(
        users=notify.case_handlers(case),
        case=case,
        verb="dispatched",
        text=f"新派遣案件 {case.number}:{case.title}",
    )
    notify.notify_reporter(case=case, verb="dispatched", text=f"您反映的问题已交{target}处理")
    return case


def case_close(*, case: Case, actor, reason: str = "", version: int | None = None) -> Case:
    authorize(case, actor, Action.CLOSE)
    _close(case=case, actor=actor, reason=reason, version=version)
    return case


def _close(*, case: Case, actor, reason: str = "", version: int | None = None) -> None:
    move(
        case=case,
        actor=actor,
        action=Action.CLOSE,
        version=version,
        reason=reason,
        fields={"closed_at": timezone.now()},
    )
    notify.notify_reporter(
        case=case, verb="closed", text=f"您反映的问题({case.number})已办结,欢迎评价"
    )


def case_suspend(*, case: Case, actor, reason: str, version: int | None = None) -> Case:
    """挂账: a long-term case leaves the clocks until the centre resumes it."""
    authorize(case, actor, Action.SUSPEND)
    reason = required_text(reason, "reason", "请填写挂账理由")
    move(
        case=case,
        actor=actor,
        action=Action.SUSPEND,
        version=version,
        reason=reason,
        fields={"suspended_from": case.status},
    )
    return case


RESUME_STEP = {
    Status.ACCEPTED: Step.DISPATCH,
    Status.RETURNED: Step.DISPATCH,
    Status.DISPATCHED: Step.HANDLE,
    Status.SIGNED: Step.HANDLE,
}


def case_resume(*, case: Case, actor, reason: str = "", version: int | None = None) -> Case:
    """Back to the status before the suspension, with a fresh clock for its step."""
    authorize(case, actor, Action.RESUME)
    back = case.suspended_from or Status.ACCEPTED
    move(
        case=case,
        actor=actor,
        action=Action.RESUME,
        version=version,
        reason=reason,
        target=back,
        step=RESUME_STEP.get(back, ""),
        fields={"suspended_from": ""},
    )
    return case


# --- the handler -----------------------------------------------------------------------------


def case_sign(*, case: Case, actor, version: int | None = None) -> Case:
    authorize(case, actor, Action.SIGN)
    move(
        case=case,
        actor=actor,
        action=Action.SIGN,
        version=version,
        fields={"signed_at": timezone.now()},
    )
    return case


def case_handle(
    *, case: Case, actor, note: str, files: Files = (), version: int | None = None
) -> Case:
    """处置: feedback text and "after" photos; the grid is asked to verify on site."""
    authorize(case, actor, Action.HANDLE)
    note = required_text(note, "note", "请填写处置情况")
    with transaction.atomic():
        event = move(
            case=case,
            actor=actor,
            action=Action.HANDLE,
            version=version,
            reason=note,
            fields={"handle_note": note, "handled_at": timezone.now()},
        )
        for f in files:
            attachment_add(
                case=case, event=event, kind=AttachmentKind.AFTER, file=f, uploaded_by=actor
            )
    notify.notify_users(
        users=notify.grid_staff(case.path),
        case=case,
        verb="to_verify",
        text=f"案件 {case.number} 已处置,请现场核查",
    )
    notify.notify_reporter(case=case, verb="handled", text=f"您反映的问题({case.number})已处理")
    return case


def case_return(*, case: Case, actor, reason: str, version: int | None = None) -> Case:
    """退回: not ours. The case goes back to the centre's queue with the reason."""
    authorize(case, actor, Action.RETURN)
    reason = required_text(reason, "reason", "请填写退回理由")
    returned_by = case.department.name if case.department_id else case.assigned_region.name
    fields = {
        "department": None,
        "assigned_region": None,
        "assigned_path": "",
        "return_count": case.return_count + 1,
        "extension_pending": False,
    }
    move(
        case=case,
        actor=actor,
        action=Action.RETURN,
        version=version,
        reason=reason,
        fields=fields,
        data={"returned_by": returned_by},
    )
    _cancel_pending_extensions(case)
    notify.notify_users(
        users=notify.centre_operators(case),
        case=case,
        verb="returned",
        text=f"案件 {case.number} 被{returned_by}退回:{reason}",
    )
    return case


def case_escalate(*, case: Case, actor, reason: str, version: int | None = None) -> Case:
    """Grid-level work the grid cannot solve goes one level up (grid → community → street
    → district)."""
    authorize(case, actor, Action.ESCALATE)
    reason = required_text(reason, "reason", "请填写上报理由")
    if not case.is_grid_level:
        raise IllegalTransition("只有网格承办的案件可以逐级上报", action=Action.ESCALATE)
    parent = case.assigned_region.parent
    if parent is None:
        raise IllegalTransition("已是最高层级,无法继续上报", action=Action.ESCALATE)
    move(
        case=case,
        actor=actor,
        action=Action.ESCALATE,
        version=version,
        reason=reason,
        target=Status.DISPATCHED,
        fields={"assigned_region": parent, "assigned_path": parent.path},
        data={"from": case.assigned_region.name, "to": parent.name},
    )
    notify.notify_users(
        users=notify.case_handlers(case),
        case=case,
        verb="escalated",
        text=f"案件 {case.number} 由下级上报:{reason}",
    )
    return case


def _cancel_pending_extensions(case: Case) -> None:
    Extension.objects.filter(case=case, status=ExtensionStatus.PENDING).update(
        status=ExtensionStatus.CANCELLED, decided_at=timezone.now()
    )


# --- the verifier ----------------------------------------------------------------------------


def case_verify(
    *,
    case: Case,
    actor,
    passed: bool,
    reason: str = "",
    files: Files = (),
    version: int | None = None,
) -> Case:
    """核查 on site. Pass: verified (and closed at once with CASES_AUTO_CLOSE_ON_VERIFY).
    Fail: rework (返工) back to the same department or grid, with a reason."""
    action = Action.VERIFY_PASS if passed else Action.VERIFY_FAIL
    authorize(case, actor, action)
    _check_not_self_verify(case, actor)
    if not passed:
        reason = required_text(reason, "reason", "请填写核查不通过的原因")
    fields = {"verified_at": timezone.now()} if passed else {"rework_count": case.rework_count + 1}
    with transaction.atomic():
        event = move(
            case=case, actor=actor, action=action, version=version, reason=reason, fields=fields
        )
        for f in files:
            attachment_add(
                case=case, event=event, kind=AttachmentKind.VERIFY, file=f, uploaded_by=actor
            )
        if passed and settings.CASES_AUTO_CLOSE_ON_VERIFY:
            _close(case=case, actor=actor, reason="核查通过,自动结案")
    if not passed:
        notify.notify_users(
            users=notify.case_handlers(case),
            case=case,
            verb="rework",
            text=f"案件 {case.number} 核查未通过,请返工:{reason}",
        )
    return case


def _check_not_self_verify(case: Case, actor) -> None:
    if settings.CASES_ON_SPOT_SELF_VERIFY or not case.handled_on_spot:
        return
    if actor is not None and actor.pk == case.on_spot_handler_id and not actor.is_superuser:
        raise IllegalTransition("就地处置的案件须由其他人员核查", action=Action.VERIFY_PASS)
