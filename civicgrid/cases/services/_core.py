"""The compare-and-set move every transition goes through, and small shared helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from civicgrid.core.audit import audit_record
from civicgrid.core.models import AuditAction

from ..choices import Action
from ..clock import NO_CLOCK, step_clock
from ..models import Case, CaseEvent, Category, Escalation
from ..permissions import require_actor
from ..workflow import KEEP, CaseConflict, transition_for


def actor_label(actor) -> str:
    if actor is None:
        return "系统"
    return (getattr(actor, "display_name", None) or actor.get_username())[:150]


def required_text(value: str, field: str, message: str, max_len: int = 2000) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [message]}, code="required")
    if len(text) > max_len:
        raise ValidationError({field: [f"不能超过 {max_len} 字"]}, code="too_long")
    return text


def clock_fields(
    category: Category | None, area_class: str, step: str, now: dt.datetime
) -> dict[str, Any]:
    """Fields that start `step`'s clock now (no clock without a step or a category)."""
    if not step or category is None:
        return dict(NO_CLOCK, step=step, step_started_at=now if step else None)
    limit_type, amount = category.limit_for(step, area_class)
    return step_clock(now, limit_type, amount).as_fields(step)


def authorize(case: Case, actor, action: str) -> None:
    """Check the workflow first (so a wrong move says why), then who is acting."""
    t = transition_for(action, case.status)
    require_actor(actor, case, t.actor)


def move(
    *,
    case: Case,
    actor,
    action: str,
    version: int | None = None,
    target: str | None = None,
    reason: str = "",
    data: dict | None = None,
    fields: dict[str, Any] | None = None,
    step: str | None = None,
    now: dt.datetime | None = None,
) -> CaseEvent:
    """Apply one transition with compare-and-set on (status, version).

    Zero rows updated means someone else moved the case first: CaseConflict, nothing
    written. One timeline row and one audit row are written in the same transaction, and
    the in-memory `case` is brought up to date.
    """
    t = transition_for(action, case.status)
    expected = case.version if version is None else version
    if expected != case.version:
        raise CaseConflict()
    now = now or timezone.now()
    new_status = target or t.target or case.status
    values = dict(fields or {})
    step = t.step if step is None else step
    if step != KEEP:
        category = values.get("category", case.category)
        area = values.get("area_class", case.area_class)
        values.update(clock_fields(category, area, step, now))
    old_status = case.status
    with transaction.atomic():
        rows = Case.objects.filter(pk=case.pk, status=old_status, version=expected).update(
            status=new_status, version=expected + 1, updated_at=now, **values
        )
        if rows != 1:
            raise CaseConflict()
        event = CaseEvent.objects.create(
            case=case,
            actor=actor,
            actor_label=actor_label(actor),
            action=action,
            from_status=old_status,
            to_status=new_status,
            reason=reason,
            data=data or {},
            at=now,
        )
        if step != KEEP:
            Escalation.objects.filter(case=case, resolved_at__isnull=True).update(resolved_at=now)
        audit_record(
            action=AuditAction.CHANGE,
            obj=case,
            changes={"action": action, "status": [old_status, new_status], **_loggable(values)},
            actor=actor,
        )
    for name, value in values.items():
        setattr(case, name, value)
    case.status, case.version, case.updated_at = new_status, expected + 1, now
    return event


def _loggable(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        if hasattr(value, "pk"):
            value = value.pk
        out[name] = value if isinstance(value, (int, float, bool, str, type(None))) else str(value)
    return out


def timeline_note(*, case: Case, actor, action: str = Action.NOTE, reason: str = "", data=None):
    """A timeline row that changes nothing on the case (e.g. on the survivor of a merge)."""
    return CaseEvent.objects.create(
        case=case,
        actor=actor,
        actor_label=actor_label(actor),
        action=action,
        from_status=case.status,
        to_status=case.status,
        reason=reason,
        data=data or {},
        at=timezone.now(),
    )
