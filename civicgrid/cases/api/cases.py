"""Cases: create (idempotent), list in scope with filters, detail with timeline.

Creation only parses input: locating, routing, numbering, duplicate flagging and the timeline
row are the intake service's (`services.case_report`), so the phone page, the hotline form,
Open311 and this endpoint make identical cases.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from ninja import Path, Query

from civicgrid.accounts.choices import Role
from civicgrid.accounts.scope import scope_of
from civicgrid.api import ApiError
from civicgrid.grids.models import Region

from .. import selectors, services
from ..choices import OPEN_STATUSES, Source
from ..choices import Status as CaseStatus
from ..models import Case
from ..permissions import CENTRE_ROLES, GRID_STAFF_ROLES
from . import router
from .common import case_detail, minor_category
from .paging import capped_paged
from .schemas import NUMBER_PATTERN, CaseCreatedOut, CaseDetailOut, CaseFilter, CaseIn, CaseOut

SOURCE_ROLES = {
    Source.GRID_WORKER: GRID_STAFF_ROLES | {Role.FUNCTIONAL_WORKER},
    Source.HOTLINE: CENTRE_ROLES,
    Source.OFFICIAL: CENTRE_ROLES | {Role.LEADER},
}


def _source_for(user, asked: str | None) -> str:
    """The source a caller may claim: residents always report as residents, grid staff
    default to grid_worker, the hotline and officials' cases need centre roles."""
    scope = scope_of(user)
    if asked is None:
        is_grid = scope.roles & SOURCE_ROLES[Source.GRID_WORKER]
        return Source.GRID_WORKER if is_grid else Source.RESIDENT
    allowed = SOURCE_ROLES.get(asked)
    if allowed is not None and not (scope.is_global or scope.roles & allowed):
        raise PermissionDenied("您的角色不能以该来源登记案件")
    return asked


@router.post(
    "",
    response={200: CaseCreatedOut, 201: CaseCreatedOut},
    summary="上报/登记案件(幂等)",
)
def case_create(
    request,
    payload: CaseIn,
):
    """201 with the new case number; the same `Idempotency-Key` (header or field) from the
    same reporter answers 200 with the first case instead of making a second one.
    Hotline and official cases are registered on someone's behalf: the caller is the actor,
    the contact is `reporter_name`/`reporter_phone`."""
    user = request.user
    key = _idempotency_key(request, payload.idempotency_key)
    source = _source_for(user, payload.source)
    on_behalf = source in (Source.HOTLINE, Source.OFFICIAL)
    reporter = None if on_behalf else user
    try:
        category = minor_category(payload.category)
    except ApiError:  # a phone retrying after its category was disabled: it has its case
        first = services.case_of_submission(reporter=reporter, source=source, key=key)
        if first is None:
            raise
        return _answer(services.Reported(first, False))
    result = services.case_report(
        source=source,
        title=payload.title,
        description=payload.description,
        category=category,
        lat=payload.lat,
        lng=payload.lng,
        address=payload.address,
        reporter=reporter,
        reporter_name=payload.reporter_name or ("" if on_behalf else user.display_name),
        reporter_phone=payload.reporter_phone,
        anonymous=payload.anonymous,
        idempotency_key=key,
        actor=user,
        handled_on_spot=payload.handled_on_spot,
        handle_note=payload.handle_note,
    )
    return _answer(result)


def _answer(result: services.Reported) -> HttpResponse:
    """201 with the new case, or 200 with the first case of a repeated submission.

    Validated by its schema and written as JSON by pydantic here, as a finished response:
    handed back as a dict, ninja validated it again, dumped it and ran it through the stdlib
    encoder, ~60 µs of an intake's ~1.6 ms (docs/BENCHMARKS.md, tenth session). The body is
    the same JSON (compact, Chinese as UTF-8) with the same content type."""
    case = result.case
    body = CaseCreatedOut(
        number=case.number,
        created=result.created,
        status=case.status,
        located=case.located,
        locate_reason=case.locate_reason,
        suggested_department=getattr(case.suggested_department, "code", None),
        routing_reason=case.routing_reason,
        duplicate_suspected=case.duplicate_suspected,
        version=case.version,
    )
    status = 201 if result.created else 200
    return HttpResponse(body.model_dump_json(), status=status, content_type=JSON_TYPE)


JSON_TYPE = "application/json; charset=utf-8"  # what ninja's renderer answers with


def _idempotency_key(request, field: str) -> str:
    """The `Idempotency-Key` header wins over the body field; both are capped at 64."""
    key = (request.headers.get("Idempotency-Key") or field or "").strip()
    if len(key) > 64 or not key.isprintable():
        raise ApiError(422, "validation_error", "幂等键无效(不超过 64 个可打印字符)")
    return key


def filter_cases(qs: QuerySet[Case], f: CaseFilter, user, now: dt.datetime) -> QuerySet[Case]:
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.category:
        qs = qs.filter(Q(category__code=f.category) | Q(category__parent__code=f.category))
    if f.region:
        path = Region.objects.filter(code=f.region).values_list("path", flat=True).first()
        if path is None:  # an unknown code matches nothing, never everything
            return qs.none()
        qs = qs.filter(Q(path__startswith=path) | Q(assigned_path__startswith=path))
    if f.department:
        qs = qs.filter(department__code=f.department)
    if f.source:
        qs = qs.filter(source=f.source)
    tz = timezone.get_current_timezone()
    if f.created_from:
        qs = qs.filter(created_at__gte=dt.datetime.combine(f.created_from, dt.time(), tz))
    if f.created_to:
        end = dt.datetime.combine(f.created_to + dt.timedelta(days=1), dt.time(), tz)
        qs = qs.filter(created_at__lt=end)
    if f.overdue is not None:
        overdue = Q(step_deadline__lt=now, status__in=list(OPEN_STATUSES - {CaseStatus.SUSPENDED}))
        qs = qs.filter(overdue) if f.overdue else qs.exclude(overdue)
    if f.light:
        qs = qs.filter(light=f.light)
    if f.q:
        qs = qs.filter(Q(number__startswith=f.q) | Q(title__contains=f.q))
    return qs


@router.get("", response=list[CaseOut], summary="案件列表(权限范围内,可筛选)")
@capped_paged
def case_list(request, filters: Query[CaseFilter]):
    now = timezone.now()
    qs = selectors.case_list(user=request.user, now=now)
    return filter_cases(qs, filters, request.user, now)


@router.get("/mine", response=list[CaseOut], summary="我上报的案件")
@capped_paged
def my_cases(request):
    return selectors.case_list(user=request.user).filter(reporter=request.user)


@router.get("/{number}", response=CaseDetailOut, summary="案件详情(含办理记录)")
def case_get(request, number: str = Path(..., pattern=NUMBER_PATTERN)):
    return case_detail(request.user, number)
