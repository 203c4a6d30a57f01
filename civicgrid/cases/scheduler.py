"""Periodic steps of `manage.py run_scheduler`. Each takes `now`, does a bounded amount of
work, is idempotent (running it twice changes nothing the second time) and returns how many
things it did, so the loop and the tests can call it directly."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef

from . import notify
from .attachments import orphan_files_sweep
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


_optimized_at: dt.datetime | None = None


def _has_statistics(cur) -> bool:
    cur.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
    if cur.fetchone() is None:
        return False
    cur.execute("SELECT 1 FROM sqlite_stat1 WHERE tbl = %s LIMIT 1", [Case._meta.db_table])
    return cur.fetchone() is not None


def optimize_sqlite(now: dt.datetime) -> int:
    """Fresh planner statistics on SQLite (PostgreSQL's autovacuum does this by itself).

    Without them SQLite took the wrong index for the overdue list at 1M cases and sorted
    every open case (21 s instead of 6 ms; docs/BENCHMARKS.md). `PRAGMA optimize` re-runs
    ANALYZE only where row counts moved a lot (rarely; a full ANALYZE of 1M cases takes
    tens of seconds), and this step runs at most every SQLITE_OPTIMIZE_SECONDS (default
    1 h) per process. Before SQLite 3.46 it only considers tables this connection has
    queried, so a database never analysed gets one ANALYZE here. Returns 1 when it ran,
    0 when skipped (not SQLite, or too soon)."""
    global _optimized_at
    every = dt.timedelta(seconds=getattr(settings, "SQLITE_OPTIMIZE_SECONDS", 3600))
    if connection.vendor != "sqlite" or (_optimized_at and now - _optimized_at < every):
        return 0
    with connection.cursor() as cur:
        # No analysis_limit: it samples only the first N entries of each index, and on a
        # (status, …) index those all share one status, so SQLite took each status for
        # 1/1000 of its real size and read the overdue list by status (6 s at 1M cases)
        cur.execute("PRAGMA analysis_limit = 0")
        if not _has_statistics(cur):
            cur.execute("ANALYZE")
        cur.execute("PRAGMA optimize = 0x10002")  # 0x10000: every table (SQLite >= 3.46)
    _optimized_at = now
    return 1


STEPS = (raise_escalations, resolve_stale_escalations, orphan_files_sweep, optimize_sqlite)


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
