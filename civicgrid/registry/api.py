"""The registry in the JSON API (/api/v1/registry/…).

Handlers parse and render only: reads go through `selectors` (scope; out of scope → 404),
writes through `services` (validation, permission, audit). Errors keep the shared shape
{code, message, details}.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from civicgrid.accounts.scope import scope_of
from civicgrid.grids.models import Region

from . import selectors, services
from .models import Household, Organisation, Person, WorkArea
from .permissions import require_admin
from .schemas import (
    BuildingIn,
    BuildingOut,
    ComponentIn,
    ComponentOut,
    ComponentStateIn,
    CoverageOut,
    DutyOut,
    HouseholdDetailOut,
    HouseholdIn,
    HouseholdOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    PersonDetailOut,
    PersonIn,
    PersonOut,
    PersonPatch,
    RecordIn,
    RecordOut,
    RecordTypeIn,
    RecordTypeOut,
    RevealIn,
    RevealOut,
    RoomIn,
    RoomOut,
    TagIn,
    TagOut,
    VisitIn,
    VisitOut,
    WorkAreaOut,
)

router = Router(tags=["registry"])
MAX_PAGE = 500


def paged(func):
    return paginate(LimitOffsetPagination, max_limit=MAX_PAGE)(func)


class PeoplePagination(LimitOffsetPagination):
    """limit/offset for people: `count` stops at `selectors.COUNT_CAP` and `count_capped`
    says there are more (a bare surname matches tens of thousands in a city; counting them
    all cost more than the page). Offsets past the cap still answer their rows. Rows are
    read through `selectors.person_rows` (ids from an index, then the page)."""

    class Output(Schema):
        items: list[Any]
        count: int
        count_capped: bool = False

    def paginate_queryset(self, queryset, pagination, request, **params):
        limit = min(pagination.limit, self.max_limit)
        seen = selectors.capped_count(queryset)
        return {
            "items": selectors.person_rows(
                queryset, user=request.user, offset=pagination.offset, limit=limit
            ),
            "count": min(seen, selectors.COUNT_CAP),
            "count_capped": seen > selectors.COUNT_CAP,
        }


def _api_error(status: int, code: str, message: str, details: Any = None):
    from civicgrid.api import ApiError

    return ApiError(status, code, message, details)


def _unit(request, code: str | None) -> Region | None:
    if not code:
        return None
    unit = Region.objects.for_scope(scope_of(request.user)).filter(code=code, level="unit").first()
    if unit is None:
        raise _api_error(400, "unknown_unit", "基础网格单元不存在或不在您的权限范围内",
                         {"unit_code": code})  # fmt: skip
    return unit


def _ref(request, getter, pk: int | None, field: str):
    """A referenced object in scope, or a 400 naming the field (not a 404 of the endpoint)."""
    if pk is None:
        return None
    try:
        return getter(user=request.user, pk=pk)
    except Http404:
        raise _api_error(400, f"unknown_{field}", "引用的对象不存在或不在您的权限范围内",
                         {field: pk}) from None  # fmt: skip


def _person_kwargs(request, payload: PersonIn) -> dict[str, Any]:
    data = payload.model_dump(exclude={"unit_code", "room_id", "household_id", "person_id"})
    data["unit"] = _unit(request, payload.unit_code)
    data["room"] = _ref(request, selectors.room_get, payload.room_id, "room")
    data["household"] = _ref(request, selectors.household_get, payload.household_id, "household")
    return data


def _create_person(request, **kwargs) -> Person:
    try:
        return services.person_create(user=request.user, **kwargs)
    except services.DuplicatePerson as exc:
        existing = exc.existing.pk if exc.existing is not None else None
        raise _api_error(409, "duplicate", exc.messages[0], {"existing_id": existing}) from exc


# --- people ---------------------------------------------------------------------------------


class PersonFilter(Schema):
    q: str = ""
    residency: str = ""
    tag: str = ""
    unit: str = ""
    address: str = ""
    status: str = ""
    household: int | None = None


@router.get("/people", response=list[PersonOut], summary="人员列表(证件号、电话脱敏)")
@paginate(PeoplePagination, max_limit=MAX_PAGE)
def person_list(request, filters: Query[PersonFilter]) -> QuerySet[Person]:
    f = filters
    return selectors.person_list(
        user=request.user, q=f.q[:100], residency=f.residency[:20], tag=f.tag[:20],
        unit=f.unit[:20], address=f.address[:100], status=f.status[:20], household=f.household,
    )  # fmt: skip


@router.get("/people/{pk}", response=PersonDetailOut, summary="人员详情")
def person_detail(request, pk: Path[int]):
    return selectors.person_get(user=request.user, pk=pk)


@router.post("/people", response={201: PersonDetailOut}, summary="登记人员")
def person_create(request, payload: PersonIn):
    return Status(201, _create_person(request, **_person_kwargs(request, payload)))


@router.patch("/people/{pk}", response=PersonDetailOut, summary="修改人员信息")
def person_update(request, pk: Path[int], payload: PersonPatch):
    person = selectors.person_get(user=request.user, pk=pk)
    changes = payload.model_dump(exclude_unset=True)
    try:
        return services.person_update(user=request.user, person=person, **changes)
    except services.DuplicatePerson as exc:
        existing = exc.existing.pk if exc.existing is not None else None
        raise _api_error(409, "duplicate", exc.messages[0], {"existing_id": existing}) from exc


@router.post(
    "/people/{pk}/reveal", response=RevealOut, summary="查看完整证件号/电话(需说明原因,留痕)"
)
def person_reveal(request, pk: Path[int], payload: RevealIn):
    person = selectors.person_get(user=request.user, pk=pk)
    value = services.person_reveal(
        user=request.user, person=person, field=payload.field, reason=payload.reason
    )
    return {"field": payload.field, "value": value}


@router.post("/people/{pk}/tags", response={201: TagOut}, summary="标记特殊人群")
def person_tag_add(request, pk: Path[int], payload: TagIn):
    person = selectors.person_get(user=request.user, pk=pk)
    return Status(
        201, services.person_tag_add(user=request.user, person=person, **payload.model_dump())
    )


@router.delete("/people/{pk}/tags/{tag_id}", response=TagOut, summary="移出特殊人群")
def person_tag_end(request, pk: Path[int], tag_id: Path[int]):
    person = selectors.person_get(user=request.user, pk=pk)
    tag = get_object_or_404(person.tags, pk=tag_id)
    return services.person_tag_end(user=request.user, tag=tag)


# --- households, buildings, rooms -----------------------------------------------------------


@router.get("/households", response=list[HouseholdOut], summary="户列表")
@paged
def household_list(request, q: str = ""):
    return selectors.household_list(user=request.user, q=q[:100])


@router.get("/households/{pk}", response=HouseholdDetailOut, summary="户详情(含成员)")
def household_detail(request, pk: Path[int]):
    return selectors.household_get(user=request.user, pk=pk)


@router.post("/households", response={201: HouseholdDetailOut}, summary="登记一户及其成员")
def household_create(request, payload: HouseholdIn) -> tuple[int, Household]:
    members = []
    for m in payload.members:
        if m.person_id:
            existing = _ref(request, selectors.person_get, m.person_id, "person")
            members.append({"person": existing, "relation": m.relation or "other"})
        else:
            kwargs = _person_kwargs(request, m)
            kwargs.pop("household"), kwargs.pop("room"), kwargs.pop("unit")
            members.append(kwargs)
    try:
        household = services.household_create(
            user=request.user, room=_ref(request, selectors.room_get, payload.room_id, "room"),
            unit=_unit(request, payload.unit_code), number=payload.number,
            address=payload.address, members=members,
        )  # fmt: skip
    except services.DuplicatePerson as exc:
        raise _api_error(409, "duplicate", exc.messages[0]) from exc
    return Status(201, household)


@router.get("/buildings", response=list[BuildingOut], summary="楼栋列表")
@paged
def building_list(request, q: str = "", unit: str = ""):
    return selectors.building_list(user=request.user, q=q[:100], unit=unit[:20])


@router.get("/buildings/{pk}", response=BuildingOut, summary="楼栋详情")
def building_detail(request, pk: Path[int]):
    return selectors.building_get(user=request.user, pk=pk)


@router.post("/buildings", response={201: BuildingOut}, summary="登记楼栋")
def building_create(request, payload: BuildingIn):
    data = payload.model_dump(exclude={"unit_code"})
    unit = _unit(request, payload.unit_code)
    return Status(201, services.building_create(user=request.user, unit=unit, **data))


@router.get("/rooms", response=list[RoomOut], summary="房屋列表")
@paged
def room_list(request, building: int | None = None):
    return selectors.room_list(user=request.user, building=building)


@router.post("/rooms", response={201: RoomOut}, summary="登记房屋")
def room_create(request, payload: RoomIn):
    building = _ref(request, selectors.building_get, payload.building_id, "building")
    data = payload.model_dump(exclude={"building_id"})
    return Status(201, services.room_create(user=request.user, building=building, **data))


# --- organisations and components -----------------------------------------------------------


@router.get("/organisations", response=list[OrganisationOut], summary="单位组织列表")
@paged
def organisation_list(request, q: str = "", kind: str = ""):
    return selectors.organisation_list(user=request.user, q=q[:100], kind=kind[:20])


@router.get("/organisations/{pk}", response=OrganisationOut, summary="单位组织详情")
def organisation_detail(request, pk: Path[int]):
    return selectors.organisation_get(user=request.user, pk=pk)


@router.post("/organisations", response={201: OrganisationOut}, summary="登记单位组织")
def organisation_create(request, payload: OrganisationIn) -> tuple[int, Organisation]:
    data = payload.model_dump(exclude={"unit_code"})
    unit = _unit(request, payload.unit_code)
    return Status(201, services.organisation_create(user=request.user, unit=unit, **data))


@router.patch("/organisations/{pk}", response=OrganisationOut, summary="修改单位组织")
def organisation_update(request, pk: Path[int], payload: OrganisationPatch):
    org = selectors.organisation_get(user=request.user, pk=pk)
    changes = payload.model_dump(exclude_unset=True)
    return services.organisation_update(user=request.user, organisation=org, **changes)


@router.get("/components", response=list[ComponentOut], summary="部件列表")
@paged
def component_list(request, major: str = "", state: str = "", q: str = ""):
    return selectors.component_list(user=request.user, major=major[:2], state=state[:12],
                                    q=q[:100])  # fmt: skip


@router.get("/components/{pk}", response=ComponentOut, summary="部件详情")
def component_detail(request, pk: Path[int]):
    return selectors.component_get(user=request.user, pk=pk)


@router.post("/components", response={201: ComponentOut}, summary="登记部件")
def component_create(request, payload: ComponentIn):
    data = payload.model_dump(exclude={"unit_code"})
    unit = _unit(request, payload.unit_code)
    return Status(201, services.component_create(user=request.user, unit=unit, **data))


@router.put("/components/{pk}/state", response=ComponentOut, summary="修改部件状态")
def component_state(request, pk: Path[int], payload: ComponentStateIn):
    comp = selectors.component_get(user=request.user, pk=pk)
    return services.component_set_state(user=request.user, component=comp, state=payload.state)


# --- work areas and records -----------------------------------------------------------------


@router.get("/work-areas", response=list[WorkAreaOut], summary="重点工作领域")
def work_area_list(request):
    return list(selectors.work_area_list(user=request.user).prefetch_related("departments"))


@router.get("/record-types", response=list[RecordTypeOut], summary="台账类型")
def record_type_list(request, area: int | None = None):
    return list(selectors.record_type_list(user=request.user, area=area))


@router.post("/record-types", response={201: RecordTypeOut}, summary="新建台账类型(管理员)")
def record_type_create(request, payload: RecordTypeIn):
    require_admin(request.user)
    area = WorkArea.objects.filter(pk=payload.area_id).first()
    if area is None:
        raise _api_error(400, "unknown_area", "工作领域不存在", {"area_id": payload.area_id})
    data = payload.model_dump(exclude={"area_id"})
    return Status(201, services.record_type_create(user=request.user, area=area, **data))


@router.get("/records", response=list[RecordOut], summary="台账记录")
@paged
def record_list(request, area: int | None = None, record_type: int | None = None,
                subject_kind: str = ""):  # fmt: skip
    return selectors.record_list(user=request.user, area=area, record_type=record_type,
                                 subject_kind=subject_kind[:20])  # fmt: skip


@router.get("/records/{pk}", response=RecordOut, summary="台账记录详情")
def record_detail(request, pk: Path[int]):
    return selectors.record_get(user=request.user, pk=pk)


SUBJECT_GETTERS = {
    "person": selectors.person_get,
    "household": selectors.household_get,
    "building": selectors.building_get,
    "organisation": selectors.organisation_get,
    "component": selectors.component_get,
    "place": selectors.place_get,
}


@router.post("/records", response={201: RecordOut}, summary="登记台账记录")
def record_create(request, payload: RecordIn):
    types = selectors.record_type_list(user=request.user)
    rt = types.filter(pk=payload.record_type_id).first()
    if rt is None:
        raise _api_error(400, "unknown_record_type", "台账类型不存在或不在您的权限范围内")
    getter = SUBJECT_GETTERS[rt.subject_kind]
    subject = _ref(request, getter, payload.subject_id, "subject")
    record = services.record_create(
        user=request.user, record_type=rt, subject=subject, values=payload.values,
        occurred_on=payload.occurred_on,
    )  # fmt: skip
    return Status(201, record)


# --- visits, duties, coverage ---------------------------------------------------------------


VISIT_GETTERS = {
    "household": selectors.household_get,
    "person": selectors.person_get,
    "organisation": selectors.organisation_get,
}


@router.get("/visits", response=list[VisitOut], summary="走访记录")
@paged
def visit_list(request, person: int | None = None, household: int | None = None):
    return selectors.visit_list(user=request.user, person=person, household=household)


@router.post("/visits", response={201: VisitOut}, summary="登记走访")
def visit_create(request, payload: VisitIn):
    target = _ref(request, VISIT_GETTERS[payload.target_kind], payload.target_id, "target")
    data = payload.model_dump(exclude={"target_kind", "target_id"})
    return Status(201, services.visit_record(user=request.user, target=target, **data))


@router.get("/overdue", response=list[DutyOut], summary="逾期未走访的重点人员")
@paged
def overdue(request):
    return [
        {"person_id": d.person.pk, "name": d.person.name, "kinds": d.kinds,
         "every_days": d.every_days, "last_visit": d.last_visit, "due": d.due,
         "days_overdue": d.days_overdue}
        for d in selectors.overdue_duties(user=request.user)
    ]  # fmt: skip


@router.get("/coverage", response=list[CoverageOut], summary="各网格走访覆盖率(30/90天)")
def coverage(request):
    return [
        {**c.__dict__, "share_30": round(c.share_30, 4), "share_90": round(c.share_90, 4)}
        for c in selectors.coverage_by_grid(user=request.user)
    ]


__all__ = ["router"]
