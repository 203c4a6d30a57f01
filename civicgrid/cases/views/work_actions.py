"""Every button of the workbenches posts here: `/cases/<pk>/do/<action>/`.

The view parses the form into the keyword arguments of one service call and renders the
case panel again. Refusals are answers, not crashes: an illegal or raced move (the case
changed since the page was drawn; the form carries the version it saw) is 409 with the
service's Chinese reason shown in the panel, bad input 400, a wrong role 403, a case out of
scope 404. HTMX swaps those answers into the panel (see static/cases/work.js).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from civicgrid.grids import selectors as grid_selectors
from civicgrid.grids.choices import Level

from .. import dedup, selectors, services
from ..attachments import images_prepare
from ..choices import AreaClass
from ..models import Case, Category
from ..permissions import CaseNotFound
from ..workflow import CaseConflict, IllegalTransition
from .work import render_panel


class BadInput(Exception):
    """The form itself is unusable (missing or malformed field): HTTP 400."""


# --- parsing helpers -------------------------------------------------------------------------


def _text(request: HttpRequest, name: str, max_len: int = 2000) -> str:
    value = request.POST.get(name, "")
    if len(value) > max_len:
        raise BadInput(f"内容过长(不超过 {max_len} 字)")
    if any(ord(ch) < 32 and ch not in "\r\n\t" for ch in value):
        raise BadInput("内容含有不可见的控制字符")
    return value


def _int(request: HttpRequest, name: str, label: str, lo: int, hi: int) -> int:
    raw = request.POST.get(name, "").strip()
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise BadInput(f"{label}须为 {lo} 到 {hi} 的整数")
    return int(raw)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise BadInput("版本号无效,请刷新页面")
    return int(raw)


def _files(request: HttpRequest) -> list:
    """Photos for handling and verification, validated and cleaned before the move
    (cases/attachments.py: content sniffing, size, EXIF stripped); a refusal is a 400."""
    return images_prepare(request.FILES.getlist("photos"))


# --- one parser per action: form → service keyword arguments ---------------------------------


def _accept(request, case):
    kw: dict = {"reason": _text(request, "reason")}
    raw = request.POST.get("category", "").strip()
    if raw:
        if not raw.isdigit():
            raise BadInput("案件类别无效")
        category = Category.objects.active().minors().filter(pk=int(raw)).first()
        if category is None:
            raise BadInput("案件类别不存在或已停用")
        kw["category"] = category
    area = request.POST.get("area_class", "").strip()
    if area:
        if area not in AreaClass.values:
            raise BadInput("区域分类无效")
        kw["area_class"] = area
    return kw


def _dispatch(request, case):
    target = request.POST.get("target", "").strip()
    kind, _, key = target.partition(":")
    if kind == "dept" and key.isdigit():
        dept = grid_selectors.department_list(user=request.user).filter(pk=int(key)).first()
        if dept is None:
            raise BadInput("处置部门不存在")
        return {"department": dept, "reason": _text(request, "reason")}
    if kind == "region" and key.isdigit():
        region = (
            grid_selectors.region_list(user=request.user)
            .filter(code=key, level__in=[Level.GRID, Level.COMMUNITY, Level.STREET])
            .first()
        )
        if region is None:
            raise BadInput("承办网格不存在")
        return {"region": region, "reason": _text(request, "reason")}
    raise BadInput("请选择处置部门或承办网格")


def _merge(request, case):
    number = request.POST.get("into", "").strip()
    if not number.isdigit() or len(number) > 20:
        raise BadInput("请选择或填写要合并到的案件编号")
    into = selectors.case_list(user=request.user).filter(number=number).first()
    if into is None:
        raise BadInput(f"找不到案件 {number}")
    return {"into": into, "reason": _text(request, "reason")}


def _relocate(request, case):
    code = request.POST.get("unit", "").strip()
    unit = (
        grid_selectors.region_list(user=request.user)
        .filter(code=code, level=Level.UNIT)
        .select_related("parent")
        .first()
        if code.isdigit()
        else None
    )
    if unit is None:
        raise BadInput("请选择基础网格单元")
    return {"unit": unit}


def _reason(request, case):
    return {"reason": _text(request, "reason")}


def _nothing(request, case):
    return {}


def _handle(request, case):
    return {"note": _text(request, "note"), "files": _files(request)}


def _extend_request(request, case):
    days = _int(request, "amount", "延长时长", 1, 30)
    return {"amount": days, "reason": _text(request, "reason")}


def _verify(passed: bool):
    def parse(request, case):
        return {"passed": passed, "reason": _text(request, "reason"), "files": _files(request)}

    return parse


def _decide(approve: bool):
    def parse(request, case):
        return {"approve": approve, "reason": _text(request, "reason")}

    return parse


def _rate(request, case):
    return {
        "rating": _int(request, "rating", "评分", 1, 5),
        "comment": _text(request, "comment", 500),
    }


def _not_duplicate(*, case, actor, version=None, reason=""):
    """ "不是重复": clears the flag (no status change, so no version to compare)."""
    return dedup.case_duplicates_dismiss(case=case, actor=actor, reason=reason)


@dataclass(frozen=True)
class Act:
    service: Callable
    parse: Callable
    done: str


ACTS: dict[str, Act] = {
    "accept": Act(services.case_accept, _accept, "已立案"),
    "reject": Act(services.case_reject, _reason, "已作不予立案处理"),
    "merge": Act(services.case_merge, _merge, "已合并,上报人已收到通知"),
    "not_duplicate": Act(_not_duplicate, _reason, "已排除疑似重复"),
    "dispatch": Act(services.case_dispatch, _dispatch, "已派遣"),
    "relocate": Act(services.case_relocate, _relocate, "已重新定位"),
    "suspend": Act(services.case_suspend, _reason, "已挂账"),
    "resume": Act(services.case_resume, _reason, "已恢复办理"),
    "close": Act(services.case_close, _reason, "已结案"),
    "extend_approve": Act(services.case_extend_decide, _decide(True), "已同意延期,期限已顺延"),
    "extend_refuse": Act(services.case_extend_decide, _decide(False), "已不同意延期"),
    "sign": Act(services.case_sign, _nothing, "已签收"),
    "handle": Act(services.case_handle, _handle, "已反馈处置结果,等待网格员核查"),
    "return": Act(services.case_return, _reason, "已退回指挥中心"),
    "extend_request": Act(services.case_extend_request, _extend_request, "延期申请已提交"),
    "escalate": Act(services.case_escalate, _reason, "已上报上级"),
    "verify_pass": Act(services.case_verify, _verify(True), "核查通过"),
    "verify_fail": Act(services.case_verify, _verify(False), "核查不通过,已退回返工"),
    "rate": Act(services.case_rate, _rate, "感谢您的评价"),
    "reopen": Act(services.case_reopen, _reason, "已提交重新办理"),
}


# --- the view --------------------------------------------------------------------------------


def _first_message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return next((m for msgs in exc.message_dict.values() for m in msgs), "输入有误")
    return exc.messages[0] if exc.messages else "输入有误"


@login_required
@require_POST
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    variant = "resident" if request.POST.get("variant") == "resident" else "staff"
    try:
        case = selectors.case_get(user=request.user, pk=pk)
    except CaseNotFound:
        return _refusal(request, "案件不存在或不在您的权限范围内", 404)
    act = ACTS.get(action)
    if act is None:
        return _refusal(request, "未知操作", 404)
    try:
        kwargs = act.parse(request, case)
        act.service(case=case, actor=request.user, version=_version(request), **kwargs)
    except BadInput as exc:
        return _again(request, case, variant, str(exc), 400)
    except ValidationError as exc:
        return _again(request, case, variant, _first_message(exc), 400)
    except (IllegalTransition, CaseConflict) as exc:
        return _again(request, case, variant, exc.message, 409)
    except CaseNotFound as exc:  # e.g. the case to merge into is out of scope
        return _again(request, case, variant, str(exc) or "案件不存在", 404)
    except PermissionDenied as exc:
        return _again(request, case, variant, str(exc) or "您无权执行此操作", 403)
    return _done(request, case, variant, act.done)


def _fresh(request: HttpRequest, case: Case) -> Case | None:
    try:
        return selectors.case_get(user=request.user, pk=case.pk)
    except CaseNotFound:
        return None


def _again(request, case, variant, message, status) -> HttpResponse:
    """The refusal, shown above the case as it is now (a raced case shows its new state)."""
    fresh = _fresh(request, case)
    if fresh is None:
        return _refusal(request, message, status)
    response = render_panel(
        request, fresh, status=status, error=message, variant=variant, full=not request.htmx
    )
    if status == 409:  # the case moved under the user: the lists beside the panel are stale too
        response["HX-Trigger"] = "caseChanged"
    return response


def _done(request, case, variant, message) -> HttpResponse:
    if not request.htmx:
        nxt = request.POST.get("next", "")
        if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, request.is_secure()):
            return redirect(nxt)
        return redirect("cases:mine_case" if variant == "resident" else "cases:case", pk=case.pk)
    fresh = _fresh(request, case)
    if fresh is None:  # e.g. a handler returned the case: it left their scope
        response = render(request, "cases/partials/gone.html", {"message": message})
    else:
        response = render_panel(request, fresh, message=message, variant=variant)
    response["HX-Trigger"] = "caseChanged"
    return response


def _refusal(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "cases/partials/gone.html", {"error": message}, status=status)
