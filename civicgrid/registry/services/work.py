"""Writes about work areas, record types, records and visits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from civicgrid.accounts.scope import scope_of
from civicgrid.core.audit import snapshot
from civicgrid.grids.models import Department

from ..choices import FieldType, SubjectKind, VisitTarget
from ..fields import validate_definitions, validate_values
from ..models import (
    SUBJECT_FIELDS,
    Building,
    Component,
    Household,
    Organisation,
    Person,
    PublicPlace,
    Record,
    RecordType,
    Visit,
    WorkArea,
)
from ..permissions import require_admin, require_write
from ._common import audit_change, audit_create, check_coords, check_text, field_error

SUBJECT_MODELS: dict[str, type[Model]] = {
    SubjectKind.PERSON: Person,
    SubjectKind.HOUSEHOLD: Household,
    SubjectKind.BUILDING: Building,
    SubjectKind.PLACE: PublicPlace,
    SubjectKind.ORGANISATION: Organisation,
    SubjectKind.COMPONENT: Component,
}
MAX_FINDINGS = 5000


@transaction.atomic
def work_area_update(
    *,
    user,
    area: WorkArea,
    name: str | None = None,
    departments: list[Department] | None = None,
    is_active: bool | None = None,
) -> WorkArea:
    """Administrators rename areas and say which departments own them."""
    require_admin(user)
    before = {**snapshot(area, ("name", "is_active")),
              "departments": sorted(area.departments.values_list("pk", flat=True))}  # fmt: skip
    if name is not None:
        name = name.strip()
        if not 0 < len(name) <= 50:
            raise field_error("name", "名称应为1到50字", "invalid_value")
        area.name = name
    if is_active is not None:
        area.is_active = is_active
    area.save()
    if departments is not None:
        area.departments.set(departments)
    after = {**snapshot(area, ("name", "is_active")),
             "departments": sorted(area.departments.values_list("pk", flat=True))}  # fmt: skip
    audit_change(area, before, after, user)
    return area


@transaction.atomic
def record_type_create(
    *, user, area: WorkArea, code: str, name: str, subject_kind: str, fields: Any
) -> RecordType:
    """A new ledger in a work area, with fields defined by an administrator (no code)."""
    require_admin(user)
    if subject_kind not in SubjectKind.values:
        raise field_error("subject_kind", "对象类型无效", "invalid_choice")
    if RecordType.objects.filter(code=code).exists():
        raise field_error("code", "代码已存在", "duplicate")
    rt = RecordType(area=area, code=code, name=(name or "").strip(), subject_kind=subject_kind,
                    fields=validate_definitions(fields))  # fmt: skip
    rt.full_clean(exclude=["area"], validate_unique=False)
    rt.save()
    audit_create(rt, ("area", "code", "name", "subject_kind"), user, field_defs=rt.fields)
    return rt


@transaction.atomic
def record_type_update(*, user, record_type: RecordType, name=None, fields=None) -> RecordType:
    """Fields may change; existing records keep the values they were validated with."""
    require_admin(user)
    before = {"name": record_type.name, "fields": record_type.fields}
    if name is not None:
        record_type.name = name.strip()
    if fields is not None:
        record_type.fields = validate_definitions(fields)
    record_type.full_clean(exclude=["area"], validate_unique=False)
    record_type.save()
    audit_change(record_type, before, {"name": record_type.name, "fields": record_type.fields},
                 user)  # fmt: skip
    return record_type


def _reference_resolver(user):
    """References in record values must point to objects the user can see."""
    scope = scope_of(user)
    models = {
        FieldType.PERSON: Person,
        FieldType.ORGANISATION: Organisation,
    }

    def resolve(ftype: str, pk: int) -> bool:
        if ftype == FieldType.PLACE:
            return (
                Building.objects.for_scope(scope).filter(pk=pk).exists()
                or PublicPlace.objects.for_scope(scope).filter(pk=pk).exists()
            )
        return models[ftype].objects.for_scope(scope).filter(pk=pk).exists()

    return resolve


def _subject_kind_of(subject: Model) -> str:
    for kind, model in SUBJECT_MODELS.items():
        if isinstance(subject, model):
            return kind
    raise field_error("subject", "不支持的对象", "invalid_subject")


@transaction.atomic
def record_create(
    *,
    user,
    record_type: RecordType,
    subject: Model,
    values: Any,
    occurred_on: dt.date | None = None,
) -> Record:
    """One ledger entry, its values checked against the record type's field definitions."""
    kind = _subject_kind_of(subject)
    if kind != record_type.subject_kind:
        raise field_error(
            "subject", f"该台账只能登记{record_type.get_subject_kind_display()}", "invalid_subject"
        )
    if not record_type.is_active or not record_type.area.is_active:
        raise field_error("record_type", "该台账类型已停用", "inactive")
    require_write(user, subject.unit_path)
    clean = validate_values(record_type.fields, values, resolve=_reference_resolver(user))
    record = Record(
        record_type=record_type, area_id=record_type.area_id, subject_kind=kind,
        unit_id=subject.unit_id, unit_path=subject.unit_path, values=clean,
        occurred_on=occurred_on or timezone.localdate(), created_by=user,
        **{SUBJECT_FIELDS[kind]: subject},
    )  # fmt: skip
    record.save()
    audit_create(record, ("record_type", "subject_kind", "occurred_on"), user,
                 subject=subject.pk, values=clean)  # fmt: skip
    return record


def _visit_target(target: Model) -> dict[str, Any]:
    if isinstance(target, Household):
        return {"target_kind": VisitTarget.HOUSEHOLD, "household": target}
    if isinstance(target, Person):
        return {"target_kind": VisitTarget.PERSON, "person": target,
                "household_id": target.household_id}  # fmt: skip
    if isinstance(target, Organisation):
        return {"target_kind": VisitTarget.ORGANISATION, "organisation": target}
    raise field_error("target", "走访对象只能是户、人员或单位", "invalid_target")


@transaction.atomic
def visit_record(
    *,
    user,
    target: Model,
    visited_at: dt.datetime | None = None,
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: float | None = None,
    findings: str = "",
    problem_found: bool = False,
) -> Visit:
    """Record a visit. A visit to a person also counts for their household's coverage."""
    fields = _visit_target(target)
    require_write(user, target.unit_path)
    check_coords(lat, lng)
    now = timezone.now()
    visited_at = visited_at or now
    if visited_at > now + dt.timedelta(minutes=10):
        raise field_error("visited_at", "走访时间不能晚于当前时间", "future")
    check_text("findings", findings or "")
    if len(findings or "") > MAX_FINDINGS:
        raise field_error("findings", f"走访情况不能超过{MAX_FINDINGS}字", "too_long")
    if accuracy_m is not None and not 0 <= accuracy_m < 1e6:
        raise ValidationError({"accuracy_m": ["定位精度无效"]}, code="invalid_value")
    visit = Visit(
        visitor=user, visited_at=visited_at, unit_id=target.unit_id, unit_path=target.unit_path,
        lat=lat, lng=lng, accuracy_m=accuracy_m, findings=(findings or "").strip(),
        problem_found=problem_found, **fields,
    )  # fmt: skip
    visit.save()
    audit_create(visit, ("target_kind", "household", "person", "organisation", "visited_at",
                         "problem_found"), user)  # fmt: skip
    return visit
