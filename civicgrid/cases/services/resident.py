"""The reporter's moves after closure: rating and reopening."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from .. import notify
from ..choices import Action
from ..models import Case
from ..workflow import IllegalTransition
from ._core import authorize, move, required_text


def case_rate(
    *, case: Case, actor, rating: int, comment: str = "", version: int | None = None
) -> Case:
    """满意度 1–5 with an optional comment, once per closure."""
    authorize(case, actor, Action.RATE)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": ["评分须为 1 到 5 的整数"]}, code="rating")
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ValidationError({"comment": ["评价不能超过 500 字"]}, code="too_long")
    move(
        case=case,
        actor=actor,
        action=Action.RATE,
        version=version,
        reason=comment,
        fields={"rating": rating, "rating_comment": comment, "rated_at": timezone.now()},
        data={"rating": rating},
    )
    return case


def case_reopen(
    *, case: Case, actor, reason: str, version: int | None = None, now: dt.datetime | None = None
) -> Case:
    """Not fixed after all: within CASES_REOPEN_DAYS of closing, the reporter sends the case
    back to the centre's queue (the previous department is proposed again)."""
    authorize(case, actor, Action.REOPEN)
    reason = required_text(reason, "reason", "请说明问题未解决的情况")
    now = now or timezone.now()
    days = settings.CASES_REOPEN_DAYS
    if case.closed_at is None or now > case.closed_at + dt.timedelta(days=days):
        raise IllegalTransition(f"结案已超过 {days} 天,不能重新办理", action=Action.REOPEN)
    fields = {
        "reopen_count": case.reopen_count + 1,
        "rating": None,
        "rating_comment": "",
        "closed_at": None,
        "rated_at": None,
        "verified_at": None,
        "suggested_department": case.department or case.suggested_department,
        "department": None,
        "assigned_region": None,
        "assigned_path": "",
    }
    move(
        case=case,
        actor=actor,
        action=Action.REOPEN,
        version=version,
        reason=reason,
        fields=fields,
        now=now,
        data={"previous_rating": case.rating},
    )
    notify.notify_users(
        users=notify.centre_operators(case),
        case=case,
        verb="reopened",
        text=f"案件 {case.number} 被上报人要求重新办理:{reason}",
    )
    return case
