"""Periodic steps of `manage.py run_scheduler`. Each takes `now`, does a bounded amount of
work, is idempotent (running it twice changes nothing the second time) and returns how many
things it did, so the loop and the tests can call it directly."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from . import notify
from .choices import Action, Card, Status, Step
from .models import Case, CaseEvent, Escalation

log = logging.getLogger(__name__)
BATCH = 500
CLOCKED = [Status.ACCEPTED, Status.RETURNED, Status.DISPATCHED, Status.SIGNED, Status.HANDLED]
CARD_TEXT = {Card.YELLOW: "黄牌督办", Card.RED: "红牌督办"}


def _due(level: str, now: dt.datetime):
    field = "step_deadline" if level == Card.YELLOW else "step_red_at"
    has_card = Escalation.objects.filter(
        case=OuterRef("pk"),
        step=OuterRef("step"),
        step_started_at=OuterRef("step_started_at"),
        level=level,
    )
    return (
        Case.objects.filter(status__in=CLOCKED, **{f"{field}__lte": now})
        .exclude(step="")
        .exclude(Exists(has_card))
        .select_related("department", "assigned_region", "reporter")
        .order_by(field)[:BATCH]
    )


def _recipients(case: Case) -> list:
    if case.step == Step.DISPATCH:
        return notify.centre_operators(case)
    if case.step == Step.VERIFY:
        return notify.grid_staff(case.path)
    return notify.case_handlers(case)


def _raise_card(case: Case, level: str, now: dt.datetime) -> bool:
    try:
        with transaction.atomic():
            Escalation.objects.create(
                case=case, level=level, step=case.step, step_started_at=case.step_started_at,
                target_department=case.department, target_region=case.assigned_region,
                raised_at=now,
            )  # fmt: skip
            Case.objects.filter(pk=case.pk, step_started_at=case.step_started_at).update(card=level)
            CaseEvent.objects.create(
                case=case, actor_label="系统", at=now,
                action=Action.YELLOW_CARD if level == Card.YELLOW else Action.RED_CARD,
                from_status=case.status, to_status=case.status,
                reason=f"{case.get_step_display()}超时", data={"step": case.step},
            )  # fmt: skip
            step = case.get_step_display()
            text = f"{CARD_TEXT[level]}:案件 {case.number}「{case.title}」{step}超时"
            notify.notify_users(
                users=_recipients(case), case=case, verb=f"{level}_card", text=text, sms=True
            )
    except IntegrityError:  # another scheduler raised it first
        return False
    return True


def raise_escalations(now: dt.datetime) -> int:
    """Yellow card when a step reaches its limit, red card at CASES_RED_CARD_SHARE of it."""
    raised = 0
    for level in (Card.YELLOW, Card.RED):
        for case in _due(level, now):
            raised += _raise_card(case, level, now)
    return raised


def resolve_stale_escalations(now: dt.datetime) -> int:
    """Close notices whose step has ended (transitions do this too; this catches leftovers)."""
    same_run = Case.objects.filter(
        pk=OuterRef("case_id"),
        step=OuterRef("step"),
        step_started_at=OuterRef("step_started_at"),
        status__in=CLOCKED,
    )
    stale = Escalation.objects.filter(resolved_at__isnull=True).exclude(Exists(same_run))
    return stale.update(resolved_at=now)


STEPS = (raise_escalations, resolve_stale_escalations)


def run_once(now: dt.datetime) -> dict[str, int]:
    """One pass over every step; a failing step is logged and the others still run."""
    done = {}
    for step in STEPS:
        try:
            done[step.__name__] = step(now)
        except Exception:  # noqa: BLE001 - the loop must survive one bad step
            log.exception("scheduler step %s failed", step.__name__)
            done[step.__name__] = -1
    return done
