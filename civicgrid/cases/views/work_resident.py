"""A resident's own cases (J1, phone): status and timeline in plain words, rating after
closure, reopening within CASES_REOPEN_DAYS. Only the reporter's cases are reachable here,
and internal details (return reasons, cards, staff names) are not shown."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import selectors
from ..choices import RESIDENT_STATUS_TEXT, Action, Status
from ..models import Case, CaseEvent
from ..permissions import CaseNotFound
from .work import PAGE_SIZE, available_actions, handle_limit_text

# Timeline rows a resident sees, in plain words; other actions stay internal.
PLAIN = {
    Action.REPORT: "已收到您的反映",
    Action.HANDLE_ON_SPOT: "网格员已现场处理",
    Action.ACCEPT: "已立案,正在安排处理部门",
    Action.REJECT: "未予立案",
    Action.MERGE: "与相同问题合并处理",
    Action.SIGN: "处理部门已接单",
    Action.HANDLE: "已处理",
    Action.VERIFY_PASS: "网格员现场核实:已解决",
    Action.VERIFY_FAIL: "网格员现场核实:尚未解决,已要求重新处理",
    Action.CLOSE: "已办结",
    Action.RATE: "您已评价",
    Action.REOPEN: "您要求重新办理",
    Action.RETURN: "正在重新安排处理部门",
    Action.EXTEND_APPROVE: "处理需要更多时间,期限已延长",
    Action.SUSPEND: "需长期处理,已列入计划",
    Action.RESUME: "恢复办理",
    Action.ESCALATE: "已提交上级协调处理",
}
# Whose words may be quoted to the reporter (the handler's feedback, the rejection reason).
QUOTED = {Action.REJECT, Action.HANDLE, Action.HANDLE_ON_SPOT, Action.VERIFY_FAIL, Action.RATE}


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%m月%d日 %H:%M") if value else ""


def headline(case: Case) -> str:
    """The one line a resident reads first: where the case stands, and by when."""
    if case.status in (Status.DISPATCHED, Status.SIGNED):
        who = case.department.name if case.department_id else "所在网格"
        due = _local(case.step_deadline)
        if not due:
            return f"已派送至{who}处理"
        late = ",已超期,正在督办" if case.step_deadline < timezone.now() else ""
        return f"已派送至{who},处理时限至 {due}{late}"
    return RESIDENT_STATUS_TEXT.get(case.status, case.get_status_display())


def plain_event(case: Case, event: CaseEvent) -> str | None:
    if event.action == Action.DISPATCH:
        limit = handle_limit_text(case)
        to = (event.data or {}).get("to", "相关部门")
        return f"已派送至{to}" + (f",处理时限 {limit}" if limit else "")
    if event.action == Action.MERGE:
        return f"与相同问题合并处理(案件 {(event.data or {}).get('into', '')})"
    if event.action == Action.RATE:
        stars = int((event.data or {}).get("rating") or 0)
        return "您的评价:" + "★" * stars + "☆" * (5 - stars)
    return PLAIN.get(event.action)


def timeline(case: Case) -> list[dict]:
    rows = []
    for event in case.events.all():
        text = plain_event(case, event)
        if text is None:
            continue
        quote = event.reason if event.action in QUOTED else ""
        rows.append({"at": event.at, "text": text, "quote": quote})
    return rows


def can_reopen(case: Case, now: dt.datetime) -> bool:
    if case.closed_at is None:
        return False
    return now <= case.closed_at + dt.timedelta(days=settings.CASES_REOPEN_DAYS)


def resident_context(request: HttpRequest, case: Case, **extra) -> dict:
    now = timezone.now()
    actions = available_actions(request.user, case)
    if Action.REOPEN in actions and not can_reopen(case, now):
        actions.discard(Action.REOPEN)
    photos = [a for a in case.attachments.all() if (a.content_type or "").startswith("image/")]
    ctx = {
        "case": case,
        "headline": headline(case),
        "timeline": timeline(case),
        "actions": actions,
        "photos": photos,
        "reopen_days": settings.CASES_REOPEN_DAYS,
        "variant": "resident",
        "message": None,
        "error": None,
    }
    ctx.update(extra)
    return ctx


def _mine_get(request: HttpRequest, pk: int) -> Case:
    """Only the user's own report; anything else is 'not found'."""
    if not selectors.resident_cases(user=request.user).filter(pk=pk).exists():
        raise CaseNotFound("案件不存在")
    return selectors.case_get(user=request.user, pk=pk)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    qs = selectors.resident_cases(user=request.user).select_related("department")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(case, headline(case)) for case in page.object_list]
    return render(request, "cases/work/mine.html", {"page": page, "rows": rows})


@login_required
@require_GET
def mine_case(request: HttpRequest, pk: int) -> HttpResponse:
    case = _mine_get(request, pk)
    ctx = resident_context(request, case)
    return render(request, "cases/work/mine_case.html", ctx)
