"""Request and response schemas of the registry API. Personal numbers only ever go out
masked; the clear value comes from POST /people/{id}/reveal alone."""

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from .choices import (
    BuildingUse,
    ComponentState,
    OrgKind,
    PersonStatus,
    Relation,
    Residency,
    SubjectKind,
    TagKind,
)
from .models import Person

UNIT_CODE = r"^\d{14}$"
Text50 = Field(max_length=50)


def _lit(choices) -> Any:
    return Literal[tuple(choices.values)]  # type: ignore[valid-type]


ResidencyName = _lit(Residency)
RelationName = _lit(Relation)
TagKindName = _lit(TagKind)
OrgKindName = _lit(OrgKind)
UseName = _lit(BuildingUse)
StateName = _lit(ComponentState)
StatusName = _lit(PersonStatus)
SubjectName = _lit(SubjectKind)


class TagOut(Schema):
    id: int
    kind: str
    kind_label: str
    data: dict[str, Any]
    visit_every_days: int
    started_on: dt.date
    ended_on: dt.date | None

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return str(obj.get_kind_display())


class PersonOut(Schema):
    id: int
    name: str
    sex: str
    birth_date: dt.date | None
    id_number_masked: str
    phone_masked: str
    residency: str
    residency_label: str
    status: str
    unit_code: str
    household_id: int | None
    relation: str
    room_id: int | None
    room_label: str
    address: str

    @staticmethod
    def resolve_residency_label(obj: Person) -> str:
        return str(obj.get_residency_display())

    @staticmethod
    def resolve_unit_code(obj: Person) -> str:
        return obj.unit_path.rstrip("/").rpartition("/")[2]

    @staticmethod
    def resolve_room_label(obj: Person) -> str:
        return obj.room.label if obj.room_id else ""


class PersonDetailOut(PersonOut):
    nationality: str
    ethnicity: str
    registered_address: str
    notes: str
    tags: list[TagOut]

    @staticmethod
    def resolve_tags(obj: Person) -> list:
        return list(obj.tags.all())


class PersonIn(Schema):
    name: str = Field(min_length=1, max_length=50)
    unit_code: str | None = Field(None, pattern=UNIT_CODE)
    room_id: int | None = Field(None, ge=1)
    household_id: int | None = Field(None, ge=1)
    relation: RelationName | Literal[""] = ""
    id_number: str = Field("", max_length=40)
    phone: str = Field("", max_length=30)
    sex: Literal["M", "F", ""] = ""
    birth_date: dt.date | None = None
    residency: ResidencyName = "registered"
    nationality: str = Field("中国", max_length=40)
    ethnicity: str = Field("", max_length=20)
    address: str = Field("", max_length=200)
    registered_address: str = Field("", max_length=200)
    notes: str = Field("", max_length=2000)


class PersonPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=50)
    id_number: str | None = Field(None, max_length=40)
    phone: str | None = Field(None, max_length=30)
    sex: Literal["M", "F", ""] | None = None
    birth_date: dt.date | None = None
    residency: ResidencyName | None = None
    status: StatusName | None = None
    address: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=2000)


class RevealIn(Schema):
    field: Literal["id_number", "phone"]
    reason: str = Field(max_length=200)


class RevealOut(Schema):
    field: str
    value: str


class TagIn(Schema):
    kind: TagKindName
    data: dict[str, Any] = {}
    visit_every_days: int | None = Field(None, ge=1, le=366)
    started_on: dt.date | None = None


class MemberIn(PersonIn):
    person_id: int | None = Field(None, ge=1, description="an already registered person")
    name: str = Field("", max_length=50)


class HouseholdIn(Schema):
    room_id: int | None = Field(None, ge=1)
    unit_code: str | None = Field(None, pattern=UNIT_CODE)
    number: str = Field("", max_length=32)
    address: str = Field("", max_length=200)
    members: list[MemberIn] = Field([], max_length=30)


class HouseholdOut(Schema):
    id: int
    number: str
    room_id: int | None
    head_id: int | None
    address: str
    unit_path: str


class HouseholdDetailOut(HouseholdOut):
    members: list[PersonOut]

    @staticmethod
    def resolve_members(obj) -> list:
        return list(obj.members.select_related("room__building"))


class BuildingIn(Schema):
    unit_code: str = Field(pattern=UNIT_CODE)
    name: str = Field(min_length=1, max_length=100)
    number: str = Field("", max_length=20)
    address: str = Field(min_length=1, max_length=200)
    floors: int = Field(1, ge=1, le=200)
    use: UseName = "residential"
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lng: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)


class BuildingOut(Schema):
    id: int
    name: str
    number: str
    address: str
    floors: int
    use: str
    lat: float | None
    lng: float | None
    unit_path: str


class RoomIn(Schema):
    building_id: int = Field(ge=1)
    entrance: str = Field("", max_length=10)
    number: str = Field(min_length=1, max_length=20)
    floor: int | None = Field(None, ge=-10, le=200)


class RoomOut(Schema):
    id: int
    building_id: int
    entrance: str
    floor: int | None
    number: str
    label: str


class OrganisationIn(Schema):
    unit_code: str = Field(pattern=UNIT_CODE)
    name: str = Field(min_length=1, max_length=200)
    kind: OrgKindName
    uscc: str = Field("", max_length=40)
    legal_person: str = Field("", max_length=50)
    phone: str = Field("", max_length=20)
    address: str = Field("", max_length=200)
    employees: int | None = Field(None, ge=0, le=10_000_000)
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lng: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)


class OrganisationPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    uscc: str | None = Field(None, max_length=40)
    status: Literal["active", "closed"] | None = None
    address: str | None = Field(None, max_length=200)


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    uscc: str | None
    legal_person: str
    address: str
    status: str
    unit_path: str


class ComponentIn(Schema):
    unit_code: str = Field(pattern=UNIT_CODE)
    code: str = Field(max_length=30)
    name: str = Field("", max_length=100)
    state: StateName = "normal"
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lng: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)


class ComponentStateIn(Schema):
    state: StateName


class ComponentOut(Schema):
    id: int
    code: str
    major: str
    minor: str
    name: str
    state: str
    address: str
    lat: float | None
    lng: float | None
    unit_path: str


class WorkAreaOut(Schema):
    id: int
    code: str
    name: str
    order: int
    department_ids: list[int]

    @staticmethod
    def resolve_department_ids(obj) -> list[int]:
        return [d.pk for d in obj.departments.all()]


class RecordTypeIn(Schema):
    area_id: int = Field(ge=1)
    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    name: str = Field(min_length=1, max_length=100)
    subject_kind: SubjectName
    fields: list[dict[str, Any]] = Field([], max_length=50)


class RecordTypeOut(Schema):
    id: int
    area_id: int
    code: str
    name: str
    subject_kind: str
    fields: list[dict[str, Any]]


class RecordIn(Schema):
    record_type_id: int = Field(ge=1)
    subject_id: int = Field(ge=1)
    values: dict[str, Any] = {}
    occurred_on: dt.date | None = None


class RecordOut(Schema):
    id: int
    record_type_id: int
    area_id: int
    subject_kind: str
    subject_id: int
    values: dict[str, Any]
    occurred_on: dt.date

    @staticmethod
    def resolve_subject_id(obj) -> int:
        from .models import SUBJECT_FIELDS

        return getattr(obj, f"{SUBJECT_FIELDS[obj.subject_kind]}_id")


class VisitIn(Schema):
    target_kind: Literal["household", "person", "organisation"]
    target_id: int = Field(ge=1)
    visited_at: dt.datetime | None = None
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lng: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    accuracy_m: float | None = Field(None, ge=0, le=100_000, allow_inf_nan=False)
    findings: str = Field("", max_length=5000)
    problem_found: bool = False


class VisitOut(Schema):
    id: int
    visitor_id: int
    visited_at: dt.datetime
    target_kind: str
    household_id: int | None
    person_id: int | None
    organisation_id: int | None
    lat: float | None
    lng: float | None
    findings: str
    problem_found: bool


class DutyOut(Schema):
    person_id: int
    name: str
    kinds: list[str]
    every_days: int
    last_visit: dt.datetime | None
    due: dt.date
    days_overdue: int


class CoverageOut(Schema):
    code: str
    name: str
    households: int
    visited_30: int
    visited_90: int
    share_30: float
    share_90: float
