"""延期: the handler asks for more time, the centre approves (the deadline moves) or refuses.
Both leave the case where it is; the timeline and the Extension row say why."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import notify
from ..choices import Action, ExtensionStatus, Step
from ..clock import step_clock_extended
from ..models import Case, Extension
from ..workflow import IllegalTransition
from ._core import authorize, move, required_text


def case_extend_request(
    *, case: Case, actor, amount: float, reason: str, version: int | None = None
) -> Extension:
    """`amount` is in the category's handling limit type (e.g. 5 work days)."""
    authorize(case, actor, Action.EXTEND_REQUEST)
    reason = required_text(reason, "reason", "请填写延期理由")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0 < amount <= 365:
        raise ValidationError({"amount": ["延长时长须大于 0"]}, code="amount")
    if case.extension_pending:
        raise IllegalTransition("已有待审批的延期申请", action=Action.EXTEND_REQUEST)
    if case.category is None or case.step != Step.HANDLE or case.step_deadline is None:
        raise IllegalTransition("案件没有处置期限,无需延期", action=Action.EXTEND_REQUEST)
    limit_type = case.category.limit_type
    with transaction.atomic():
        move(
            case=case,
            actor=actor,
            action=Action.EXTEND_REQUEST,
            version=version,
            reason=reason,
            fields={"extension_pending": True},
            data={"amount": amount, "limit_type": limit_type},
        )
        ext = Extension.objects.create(
            case=case,
            requested_by=actor,
            reason=reason,
            amount=float(amount),
            limit_type=limit_type,
            old_deadline=case.step_deadline,
            requested_at=timezone.now(),
        )
    notify.notify_users(
        users=notify.centre_operators(case),
        case=case,
        verb="extension",
        text=f"案件 {case.number} 申请延期:{reason}",
    )
    return ext


def case_extend_decide(
    *, case: Case, actor, approve: bool, reason: str = "", version: int | None = None
) -> Extension:
    action = Action.EXTEND_APPROVE if approve else Action.EXTEND_REFUSE
    authorize(case, actor, action)
    ext = Extension.objects.filter(case=case, status=ExtensionStatus.PENDING).first()
    if ext is None or not case.extension_pending:
        raise IllegalTransition("没有待审批的延期申请", action=action)
    if not approve:
        reason = required_text(reason, "reason", "请填写不同意延期的理由")
    fields: dict = {"extension_pending": False}
    if approve:
        fields.update(step_clock_extended(case, ext.limit_type, ext.amount))
        fields["extension_count"] = case.extension_count + 1
    now = timezone.now()
    with transaction.atomic():
        move(
            case=case,
            actor=actor,
            action=action,
            version=version,
            reason=reason,
            fields=fields,
            now=now,
            data={
                "old_deadline": str(case.step_deadline),
                "new_deadline": str(fields.get("step_deadline", case.step_deadline)),
            },
        )
        ext.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
        ext.decided_by, ext.decided_at, ext.decision_reason = actor, now, reason
        ext.new_deadline = case.step_deadline if approve else None
        ext.save()
    text = f"案件 {case.number} 延期申请{'已同意' if approve else '未同意'}"
    notify.notify_users(
        users=[ext.requested_by],
        case=case,
        verb="extension_decided",
        text=text + (f":{reason}" if reason else ""),
    )
    return ext
