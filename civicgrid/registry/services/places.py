"""Writes about buildings, rooms, public places, organisations and components."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction

from civicgrid.core.audit import snapshot
from civicgrid.core.idnumbers import IdNumberError, normalise_uscc
from civicgrid.grids.models import Region

from ..choices import COMPONENT_MINORS, ComponentState
from ..codes import parse_component_code
from ..models import Building, Component, Organisation, PublicPlace, Room
from ..permissions import require_write
from ._common import (
    apply_changes,
    audit_change,
    audit_create,
    check_coords,
    clean_model,
    coded,
    field_error,
    require_unit,
)

BUILDING_AUDIT = ("name", "number", "address", "floors", "use", "unit", "lat", "lng")
ROOM_AUDIT = ("building", "entrance", "floor", "number", "unit")
ORG_AUDIT = ("name", "kind", "uscc", "legal_person", "phone", "address", "unit", "status")
COMPONENT_AUDIT = ("code", "name", "state", "address", "owner", "unit", "lat", "lng")
_ROOM_LABEL = re.compile(r"^\s*(?:(\d+)\s*-\s*)?(\d+)\s*-\s*(\d{1,6})\s*$")


@transaction.atomic
def building_create(
    *,
    user,
    unit: Region,
    name: str,
    address: str,
    number: str = "",
    floors: int = 1,
    use: str = "residential",
    lat: float | None = None,
    lng: float | None = None,
) -> Building:
    unit = require_unit(unit)
    require_write(user, unit.path)
    check_coords(lat, lng)
    number = (number or "").strip()
    if number and Building.objects.filter(unit=unit, number=number).exists():
        raise field_error("number", "该网格单元已有同号楼栋", "duplicate")
    building = Building(
        unit=unit, unit_path=unit.path, name=(name or "").strip(), address=(address or "").strip(),
        number=number, floors=floors, use=use, lat=lat, lng=lng,
    )  # fmt: skip
    clean_model(building, exclude=["unit"])
    building.save()
    audit_create(building, BUILDING_AUDIT, user)
    return building


@transaction.atomic
def room_create(
    *, user, building: Building, number: str, entrance: str = "", floor: int | None = None
) -> Room:
    require_write(user, building.unit_path)
    number, entrance = (number or "").strip(), (entrance or "").strip()
    if Room.objects.filter(building=building, entrance=entrance, number=number).exists():
        raise field_error("number", "该房屋已登记", "duplicate")
    if floor is None and number.isdigit() and len(number) >= 3:
        floor = int(number[:-2])  # 501 → 5th floor, the usual Chinese numbering
    room = Room(
        building=building, unit=building.unit, unit_path=building.unit_path, number=number,
        entrance=entrance, floor=floor,
    )  # fmt: skip
    clean_model(room, exclude=["unit", "building"])
    room.save()
    audit_create(room, ROOM_AUDIT, user)
    return room


def parse_room_label(label: str) -> tuple[str, str, str]:
    """`3-2-501` → ("3", "2", "501"); `2-501` → ("", "2", "501")."""
    m = _ROOM_LABEL.match(label or "")
    if not m:
        raise field_error("room", "房号格式应为 楼号-单元-房号,如 3-2-501", "invalid_room")
    return m.group(1) or "", m.group(2), m.group(3)


def room_get_or_create(*, user, building: Building, entrance: str, number: str) -> Room:
    room = Room.objects.filter(building=building, entrance=entrance, number=number).first()
    return room or room_create(user=user, building=building, entrance=entrance, number=number)


@transaction.atomic
def place_create(
    *, user, unit: Region, name: str, kind: str, address: str = "", lat=None, lng=None
) -> PublicPlace:
    unit = require_unit(unit)
    require_write(user, unit.path)
    check_coords(lat, lng)
    place = PublicPlace(unit=unit, unit_path=unit.path, name=(name or "").strip(), kind=kind,
                        address=address, lat=lat, lng=lng)  # fmt: skip
    clean_model(place, exclude=["unit"])
    place.save()
    audit_create(place, ("name", "kind", "address", "unit"), user)
    return place


def _uscc(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return normalise_uscc(value)
    except IdNumberError as exc:
        raise coded("uscc", exc) from exc


def _check_uscc_free(uscc: str | None, exclude_pk: int | None = None) -> None:
    if uscc and Organisation.objects.filter(uscc=uscc).exclude(pk=exclude_pk).exists():
        raise field_error("uscc", "该统一社会信用代码已登记", "duplicate")


def _save_unique(obj, field: str, message: str) -> None:
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise field_error(field, message, "duplicate") from exc


@transaction.atomic
def organisation_create(
    *,
    user,
    unit: Region,
    name: str,
    kind: str,
    uscc: Any = "",
    legal_person: str = "",
    phone: str = "",
    address: str = "",
    building: Building | None = None,
    employees: int | None = None,
    lat: float | None = None,
    lng: float | None = None,
) -> Organisation:
    unit = building.unit if building is not None else require_unit(unit)
    require_write(user, unit.path)
    check_coords(lat, lng)
    code = _uscc(uscc)
    _check_uscc_free(code)
    org = Organisation(
        unit=unit, unit_path=unit.path, name=(name or "").strip(), kind=kind, uscc=code,
        legal_person=legal_person, phone=phone, address=address, building=building,
        employees=employees, lat=lat, lng=lng,
    )  # fmt: skip
    clean_model(org, exclude=["unit", "building", "uscc"])
    _save_unique(org, "uscc", "该统一社会信用代码已登记")
    audit_create(org, ORG_AUDIT, user)
    return org


ORG_EDITABLE = {"name", "kind", "legal_person", "phone", "address", "employees", "status"}


@transaction.atomic
def organisation_update(*, user, organisation: Organisation, **changes: Any) -> Organisation:
    require_write(user, organisation.unit_path)
    before = snapshot(organisation, ORG_AUDIT)
    if "uscc" in changes:
        code = _uscc(changes.pop("uscc"))
        _check_uscc_free(code, exclude_pk=organisation.pk)
        organisation.uscc = code
    apply_changes(organisation, changes, ORG_EDITABLE)
    clean_model(organisation, exclude=["unit", "building", "uscc"])
    _save_unique(organisation, "uscc", "该统一社会信用代码已登记")
    audit_change(organisation, before, snapshot(organisation, ORG_AUDIT), user)
    return organisation


@transaction.atomic
def component_create(
    *,
    user,
    unit: Region,
    code: Any,
    name: str = "",
    state: str = ComponentState.NORMAL,
    address: str = "",
    owner: str = "",
    lat: float | None = None,
    lng: float | None = None,
) -> Component:
    """A managed component; its 16-digit code fixes its major and minor class."""
    unit = require_unit(unit)
    require_write(user, unit.path)
    check_coords(lat, lng)
    try:
        parsed = parse_component_code(code)
    except IdNumberError as exc:
        raise coded("code", exc) from exc
    if Component.objects.filter(code=parsed.code).exists():
        raise field_error("code", "该部件编码已登记", "duplicate")
    default_name = COMPONENT_MINORS.get(parsed.major, {}).get(parsed.minor, "部件")
    comp = Component(
        unit=unit, unit_path=unit.path, code=parsed.code, major=parsed.major, minor=parsed.minor,
        name=(name or default_name).strip(), state=state, address=address, owner=owner,
        lat=lat, lng=lng,
    )  # fmt: skip
    clean_model(comp, exclude=["unit", "code"])
    _save_unique(comp, "code", "该部件编码已登记")
    audit_create(comp, COMPONENT_AUDIT, user)
    return comp


@transaction.atomic
def component_set_state(*, user, component: Component, state: str) -> Component:
    require_write(user, component.unit_path)
    if state not in ComponentState.values:
        raise field_error("state", "部件状态无效", "invalid_choice")
    before = snapshot(component, COMPONENT_AUDIT)
    component.state = state
    component.save(update_fields=["state", "updated_at"])
    audit_change(component, before, snapshot(component, COMPONENT_AUDIT), user)
    return component
