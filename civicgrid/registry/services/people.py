"""Writes about people, households and special-group tags, and the audited reveal."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from civicgrid.accounts.scope import scope_of
from civicgrid.core import crypto
from civicgrid.core.audit import audit_record, snapshot
from civicgrid.core.idnumbers import (
    IdNumberError,
    check_consistent,
    normalise_phone,
    parse_resident_id,
)
from civicgrid.grids.models import Region

from ..choices import TAG_SPECS, Relation, Residency
from ..fields import validate_values
from ..models import ID_PURPOSE, PHONE_PURPOSE, Household, Person, PersonTag, Room
from ..permissions import can_reveal, require_write
from ._common import (
    apply_changes,
    audit_change,
    audit_create,
    clean_model,
    coded,
    field_error,
    require_unit,
)

PERSON_AUDIT = (
    "name", "sex", "birth_date", "residency", "nationality", "ethnicity", "unit", "household",
    "relation", "room", "address", "registered_address", "status",
)  # fmt: skip
PERSON_EDITABLE = {
    "name", "sex", "birth_date", "residency", "nationality", "ethnicity", "relation",
    "address", "registered_address", "status", "notes",
}  # fmt: skip
_FOREIGN_DOC = re.compile(r"^[A-Z0-9]{5,20}$")
REVEAL_FIELDS = {"id_number", "phone"}


class DuplicatePerson(ValidationError):
    """The ID number is already registered. `existing` is set only when the caller may see
    that person, so the error can link to them without disclosing other grids' residents."""

    def __init__(self, existing: Person | None):
        self.existing = existing
        if existing is not None:
            message = f"该证件号码已登记:{existing.name}(档案号 {existing.pk}),请勿重复登记"
        else:
            message = "该证件号码已在其他网格登记,请联系所在网格核实"
        super().__init__({"id_number": [ValidationError(message, code="duplicate")]})


@dataclass(frozen=True)
class Identity:
    number: str
    sex: str
    birth_date: dt.date | None


def identity_parse(
    *, id_number: Any, sex: str = "", birth_date: dt.date | None = None, residency: str = ""
) -> Identity:
    """Validate an ID number against the sex and birth date typed beside it.

    A resident ID must pass GB 11643; a foreigner (境外人员) may give a passport-style number
    instead. Missing sex/birth date are taken from the resident ID.
    """
    if id_number in (None, ""):
        return Identity("", sex, birth_date)
    if residency == Residency.OVERSEAS and isinstance(id_number, str):
        text = re.sub(r"\s+", "", id_number).upper()
        if len(text) != 18 and _FOREIGN_DOC.match(text):
            return Identity(text, sex, birth_date)
    try:
        rid = parse_resident_id(id_number)
        check_consistent(rid, birth_date=birth_date, sex=sex or None)
    except IdNumberError as exc:
        field = {"id_birth_mismatch": "birth_date", "id_sex_mismatch": "sex"}.get(exc.code)
        raise coded(field or "id_number", exc) from exc
    return Identity(rid.number, rid.sex, rid.birth_date)


def phone_parse(phone: Any) -> str:
    if phone in (None, ""):
        return ""
    try:
        return normalise_phone(phone)
    except IdNumberError as exc:
        raise coded("phone", exc) from exc


def id_index(number: str) -> str | None:
    return crypto.blind_index(number, purpose=ID_PURPOSE) if number else None


def phone_index(phone: str) -> str:
    return crypto.blind_index(phone, purpose=PHONE_PURPOSE) if phone else ""


def _set_identity(person: Person, ident: Identity) -> None:
    person.id_number_enc = crypto.encrypt(ident.number, purpose=ID_PURPOSE)
    person.id_number_bidx = id_index(ident.number)
    person.sex = ident.sex or person.sex
    person.birth_date = ident.birth_date or person.birth_date


def _set_phone(person: Person, phone: str) -> None:
    person.phone_enc = crypto.encrypt(phone, purpose=PHONE_PURPOSE)
    person.phone_bidx = phone_index(phone)


def _raise_duplicate(user, bidx: str | None, exclude_pk: int | None = None) -> None:
    if not bidx:
        return
    qs = Person.objects.filter(id_number_bidx=bidx).exclude(pk=exclude_pk)
    existing = qs.first()
    if existing is None:
        return
    visible = Person.objects.for_scope(scope_of(user)).filter(pk=existing.pk).exists()
    raise DuplicatePerson(existing if visible else None)


def _audit_view(person: Person) -> dict[str, Any]:
    """Before/after of a person for the audit log: masked numbers, never clear ones."""
    return {
        **snapshot(person, PERSON_AUDIT),
        "id_number": person.id_number_masked,
        "phone": person.phone_masked,
    }


def _save_person(person: Person, user) -> None:
    clean_model(person, exclude=["unit", "household", "room"])
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        # Lost a race with another registration of the same number.
        _raise_duplicate(user, person.id_number_bidx, exclude_pk=person.pk)
        raise


def _placement(
    unit: Region | None, room: Room | None, household: Household | None
) -> tuple[Region, Room | None]:
    if household is not None and room is None:
        room = household.room
    if room is not None:
        return room.unit, room
    if household is not None:
        return household.unit, None
    return require_unit(unit), None


@transaction.atomic
def person_create(
    *,
    user,
    name: str,
    unit: Region | None = None,
    room: Room | None = None,
    household: Household | None = None,
    relation: str = "",
    id_number: Any = "",
    phone: Any = "",
    sex: str = "",
    birth_date: dt.date | None = None,
    residency: str = Residency.REGISTERED,
    nationality: str = "中国",
    ethnicity: str = "",
    address: str = "",
    registered_address: str = "",
    notes: str = "",
) -> Person:
    """Register a person. The same ID number twice is refused, pointing to the first."""
    unit, room = _placement(unit, room, household)
    require_write(user, unit.path)
    ident = identity_parse(id_number=id_number, sex=sex, birth_date=birth_date, residency=residency)
    phone_n = phone_parse(phone)
    _raise_duplicate(user, id_index(ident.number))
    person = Person(
        name=(name or "").strip(), unit=unit, unit_path=unit.path, room=room, household=household,
        relation=relation, residency=residency, nationality=nationality or "中国",
        ethnicity=ethnicity, address=address, registered_address=registered_address, notes=notes,
        sex=sex, birth_date=birth_date,
    )  # fmt: skip
    _set_identity(person, ident)
    _set_phone(person, phone_n)
    _save_person(person, user)
    audit_create(person, PERSON_AUDIT, user, id_number=person.id_number_masked,
                 phone=person.phone_masked)  # fmt: skip
    return person


@transaction.atomic
def person_update(*, user, person: Person, **changes: Any) -> Person:
    """Change plain fields, the ID number or the phone; the audit keeps masked values."""
    require_write(user, person.unit_path)
    before = _audit_view(person)
    id_number = changes.pop("id_number", None)
    phone = changes.pop("phone", None)
    apply_changes(person, changes, PERSON_EDITABLE)
    if id_number is not None:
        ident = identity_parse(
            id_number=id_number, sex=person.sex, birth_date=person.birth_date,
            residency=person.residency,
        )  # fmt: skip
        _raise_duplicate(user, id_index(ident.number), exclude_pk=person.pk)
        _set_identity(person, ident)
    elif person.id_number_enc and ("sex" in changes or "birth_date" in changes):
        identity_parse(id_number=person.id_number, sex=person.sex, birth_date=person.birth_date)
    if phone is not None:
        _set_phone(person, phone_parse(phone))
    _save_person(person, user)
    audit_change(person, before, _audit_view(person), user)
    return person


@transaction.atomic
def person_move(*, user, person: Person, room: Room | None = None, unit: Region | None = None):
    """Move a person to another room (and so unit grid); both ends must be writable."""
    require_write(user, person.unit_path)
    new_unit, room = _placement(unit, room, None)
    require_write(user, new_unit.path)
    before = _audit_view(person)
    person.room, person.unit, person.unit_path = room, new_unit, new_unit.path
    person.save()
    audit_change(person, before, _audit_view(person), user)
    return person


def person_reveal(*, user, person: Person, field: str, reason: str) -> str:
    """The clear ID or phone number, for a permitted user who says why; audited."""
    if field not in REVEAL_FIELDS:
        raise field_error("field", "只能查看身份证号或电话", "invalid_field")
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", "请填写查看原因", "reason_required")
    if len(reason) > 200:
        raise field_error("reason", "原因不能超过200字", "reason_too_long")
    scope = scope_of(user)
    if not Person.objects.for_scope(scope).filter(pk=person.pk).exists():
        raise PermissionDenied("无权查看该人员")
    if not can_reveal(scope, person.unit_path):
        raise PermissionDenied("您的角色无权查看完整的个人敏感信息")
    value = getattr(person, field)
    audit_record(
        action="reveal",
        obj=person,
        changes={"field": field, "reason": reason},
        actor=user,
    )
    return value


# --- households ------------------------------------------------------------------------------


HOUSEHOLD_AUDIT = ("number", "room", "unit", "head", "address")


@transaction.atomic
def household_create(
    *,
    user,
    room: Room | None = None,
    unit: Region | None = None,
    number: str = "",
    address: str = "",
    members: list[dict[str, Any]] | None = None,
) -> Household:
    """A household and its members in one go (J7): all or nothing.

    Each member is either ``{"person": <Person>, "relation": …}`` (someone already registered
    moves in) or the keyword arguments of `person_create`. Errors are keyed
    ``members.<i>.<field>`` so a form can show them next to the right row.
    """
    unit = room.unit if room is not None else require_unit(unit)
    require_write(user, unit.path)
    if room is not None and not address:
        address = f"{room.building.address} {room.label}"
    household = Household(
        room=room, unit=unit, unit_path=unit.path, number=(number or "").strip(), address=address
    )
    clean_model(household, exclude=["unit", "room", "head"])
    household.save()
    head = None
    for i, member in enumerate(members or []):
        person = _add_member(user, household, dict(member), index=i)
        if person.relation == Relation.HEAD and head is None:
            head = person
    if head is not None:
        household.head = head
        household.save(update_fields=["head", "updated_at"])
    audit_create(household, HOUSEHOLD_AUDIT, user, members=len(members or []))
    return household


def _add_member(user, household: Household, member: dict[str, Any], *, index: int) -> Person:
    try:
        existing = member.pop("person", None)
        if existing is not None:
            return household_add_member(
                user=user, household=household, person=existing,
                relation=member.get("relation", Relation.OTHER),
            )  # fmt: skip
        return person_create(user=user, household=household, **member)
    except ValidationError as exc:
        raise ValidationError(_prefixed(exc, f"members.{index}")) from exc


def _prefixed(exc: ValidationError, prefix: str) -> dict[str, list[ValidationError]]:
    if hasattr(exc, "error_dict"):
        return {f"{prefix}.{k}": v for k, v in exc.error_dict.items()}
    return {prefix: exc.error_list}


@transaction.atomic
def household_add_member(*, user, household: Household, person: Person, relation: str) -> Person:
    require_write(user, household.unit_path)
    require_write(user, person.unit_path)
    if relation not in Relation.values:
        raise field_error("relation", "与户主关系无效", "invalid_choice")
    before = _audit_view(person)
    person.household, person.relation = household, relation
    person.room = household.room or person.room
    person.unit, person.unit_path = household.unit, household.unit_path
    person.save()
    if relation == Relation.HEAD and household.head_id is None:
        household.head = person
        household.save(update_fields=["head", "updated_at"])
    audit_change(person, before, _audit_view(person), user)
    return person


# --- tags -----------------------------------------------------------------------------------


@transaction.atomic
def person_tag_add(
    *,
    user,
    person: Person,
    kind: str,
    data: dict[str, Any] | None = None,
    visit_every_days: int | None = None,
    started_on: dt.date | None = None,
) -> PersonTag:
    """Tag a person with a special group; from then on they are on the visit-duty list."""
    require_write(user, person.unit_path)
    spec = TAG_SPECS.get(kind)
    if spec is None:
        raise field_error("kind", "未知的人群类别", "invalid_choice")
    values = validate_values(list(spec.fields), data, field_prefix="data")
    every = spec.visit_every_days if visit_every_days is None else visit_every_days
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 366:
        raise field_error("visit_every_days", "走访周期应为1到366天", "invalid_value")
    if person.tags.active().filter(kind=kind).exists():
        raise field_error("kind", f"已标记为{spec.label}", "duplicate")
    tag = PersonTag.objects.create(
        person=person, kind=kind, data=values, visit_every_days=every,
        started_on=started_on or timezone.localdate(), created_by=user,
    )  # fmt: skip
    audit_record(
        action="create",
        obj=tag,
        changes={"after": {"person": person.pk, "kind": kind, "visit_every_days": every,
                           "data": values}},
        actor=user,
    )  # fmt: skip
    return tag


@transaction.atomic
def person_tag_end(*, user, tag: PersonTag, ended_on: dt.date | None = None) -> PersonTag:
    """Take a person out of a group (kept as history, no longer a visit duty)."""
    require_write(user, tag.person.unit_path)
    if tag.ended_on is not None:
        return tag
    tag.ended_on = ended_on or timezone.localdate()
    tag.save(update_fields=["ended_on"])
    audit_record(
        action="change",
        obj=tag,
        changes={"before": {"ended_on": None}, "after": {"ended_on": tag.ended_on.isoformat()}},
        actor=user,
    )
    return tag
