"""Every transition as `POST /cases/{number}/{action}`; each answers the case detail.

The case is looked up in the caller's scope first (404 for outsiders, before any workflow
check); then the service decides: wrong actor → 403, wrong status → 409
`illegal_transition`, changed meanwhile (`version`) → 409 `conflict`, bad input → 400.
"""

from collections.abc import Callable

from ninja import Path

from .. import services
from ..services import uploads
from . import router
from .common import case_detail, department_by_code, minor_category, region_by_code, visible_case
from .schemas import (
    NUMBER_PATTERN,
    AcceptIn,
    CaseDetailOut,
    DecideIn,
    DispatchIn,
    ExtendIn,
    HandleIn,
    MergeIn,
    RateIn,
    ReasonIn,
    RelocateIn,
    VerifyIn,
)

NumberPath = Path(..., pattern=NUMBER_PATTERN)


def _run(request, number: str, call: Callable) -> object:
    case = visible_case(request.user, number)
    call(case)
    return case_detail(request.user, number, scoped=False)


def _post(action: str, summary: str):
    return router.post(f"/{{number}}/{action}", response=CaseDetailOut, summary=summary)


# --- the centre ----------------------------------------------------------------------------


@_post("accept", "立案(可改类、定区域分类)")
def accept(request, payload: AcceptIn, number: str = NumberPath):
    category = minor_category(payload.category)
    return _run(
        request,
        number,
        lambda c: services.case_accept(
            case=c,
            actor=request.user,
            category=category,
            area_class=payload.area_class,
            reason=payload.reason,
            version=payload.version,
        ),  # fmt: skip
    )


@_post("reject", "不予立案")
def reject(request, payload: ReasonIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: services.case_reject(
            case=c, actor=request.user, reason=payload.reason, version=payload.version
        ),
    )


@_post("merge", "合并到另一案件")
def merge(request, payload: MergeIn, number: str = NumberPath):
    into = visible_case(request.user, payload.into)
    return _run(
        request,
        number,
        lambda c: services.case_merge(
            case=c, into=into, actor=request.user, reason=payload.reason, version=payload.version
        ),
    )


@_post("dispatch", "派遣到部门或网格")
def dispatch(request, payload: DispatchIn, number: str = NumberPath):
    department = department_by_code(payload.department) if payload.department else None
    region = region_by_code(request.user, payload.region) if payload.region else None
    return _run(
        request,
        number,
        lambda c: services.case_dispatch(
            case=c,
            actor=request.user,
            department=department,
            region=region,
            reason=payload.reason,
            version=payload.version,
        ),  # fmt: skip
    )


@_post("relocate", "重新定位")
def relocate(request, payload: RelocateIn, number: str = NumberPath):
    unit = region_by_code(request.user, payload.unit) if payload.unit else None
    return _run(
        request,
        number,
        lambda c: services.case_relocate(
            case=c,
            actor=request.user,
            lat=payload.lat,
            lng=payload.lng,
            unit=unit,
            address=payload.address,
            version=payload.version,
        ),  # fmt: skip
    )


@_post("extend/decide", "审批延期申请")
def extend_decide(request, payload: DecideIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: services.case_extend_decide(
            case=c,
            actor=request.user,
            approve=payload.approve,
            reason=payload.reason,
            version=payload.version,
        ),  # fmt: skip
    )


@_post("suspend", "挂账")
def suspend(request, payload: ReasonIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: services.case_suspend(
            case=c, actor=request.user, reason=payload.reason, version=payload.version
        ),
    )


@_post("resume", "恢复办理")
def resume(request, payload: ReasonIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: services.case_resume(
            case=c, actor=request.user, reason=payload.reason, version=payload.version
        ),
    )


@_post("close", "结案")
def close(request, payload: ReasonIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: services.case_close(
            case=c, actor=request.user, reason=payload.reason, version=payload.version
        ),
    )


# --- the handler ---------------------------------------------------------------------------


@_post("sign", "签收")
def sign(request, payload: ReasonIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: services.case_sign(case=c, actor=request.user, version=payload.version),
    )


@_post("handle", "处置反馈(可引用已上传的照片)")
def handle(request, payload: HandleIn, number: str = NumberPath):
    """Photos are uploaded first (`POST /{number}/attachments`) and named in `attachment_ids`;
    unknown, used or someone else's ids answer 400 `attachment_unknown` and nothing moves."""
    return _run(
        request,
        number,
        lambda c: uploads.case_handle_with_uploads(
            case=c,
            actor=request.user,
            note=payload.note,
            attachment_ids=payload.attachment_ids,
            version=payload.version,
        ),  # fmt: skip
    )


@_post("return", "退回指挥中心")
def return_(request, payload: ReasonIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: services.case_return(
            case=c, actor=request.user, reason=payload.reason, version=payload.version
        ),
    )


@_post("extend", "申请延期")
def extend_request(request, payload: ExtendIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: services.case_extend_request(
            case=c,
            actor=request.user,
            amount=payload.amount,
            reason=payload.reason,
            version=payload.version,
        ),  # fmt: skip
    )


@_post("escalate", "逐级上报(网格级案件)")
def escalate(request, payload: ReasonIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: services.case_escalate(
            case=c, actor=request.user, reason=payload.reason, version=payload.version
        ),
    )


# --- the verifier and the reporter ---------------------------------------------------------


@_post("verify", "现场核查(通过/不通过返工,可引用已上传的照片)")
def verify(request, payload: VerifyIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: uploads.case_verify_with_uploads(
            case=c,
            actor=request.user,
            passed=payload.passed,
            reason=payload.reason,
            attachment_ids=payload.attachment_ids,
            version=payload.version,
        ),  # fmt: skip
    )


@_post("rate", "满意度评价")
def rate(request, payload: RateIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: services.case_rate(
            case=c,
            actor=request.user,
            rating=payload.rating,
            comment=payload.comment,
            version=payload.version,
        ),  # fmt: skip
    )


@_post("reopen", "未解决,要求重新办理")
def reopen(request, payload: ReasonIn, number: str = NumberPath):
    return _run(
        request,
        number,
        lambda c: services.case_reopen(
            case=c, actor=request.user, reason=payload.reason, version=payload.version
        ),
    )
