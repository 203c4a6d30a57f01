"""Import kinds for buildings, organisations and components.

These registers are small (hundreds to a few thousand rows per street), so rows are written
through the registry services one by one: exactly the service's rules and one audit row per
record. Everything a service would refuse is checked beforehand, per row or once per batch,
so a batch never fails half-way on a row the dry run accepted.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from civicgrid.core.audit import snapshot
from civicgrid.core.idnumbers import IdNumberError, normalise_uscc
from civicgrid.core.imports import (
    CellError,
    Column,
    PreparedRow,
    RowError,
    choice,
    id_text,
    parse_decimal,
    parse_int,
    register,
)
from civicgrid.core.imports.errors import DUPLICATE_IN_DB

from . import services
from .choices import BuildingUse, ComponentState, OrgKind
from .codes import parse_component_code
from .import_base import UNIT_COLUMN, RegistryKind, code_text, text
from .models import Building, Component, Organisation
from .permissions import can_write
from .services._common import audit_change
from .services.places import BUILDING_AUDIT, COMPONENT_AUDIT, ORG_AUDIT

USE = {str(label): value for value, label in BuildingUse.choices} | {"住宅楼": "residential"}
ORG_KIND = {str(label): value for value, label in OrgKind.choices} | {
    "个体工商户": "shop", "商户": "shop", "公司": "enterprise", "社会团体": "social",
    "民办非企业": "social", "幼儿园": "school", "机关": "government", "事业单位": "government",
}  # fmt: skip
STATE = {str(label): value for value, label in ComponentState.choices} | {
    "正常": "normal",
    "损坏": "damaged",
}


def parse_floors(value: Any) -> int:
    floors = parse_int(value)
    if not 1 <= floors <= 200:
        raise CellError("bad_number", "层数应为 1–200")
    return floors


def parse_count(value: Any) -> int:
    count = parse_int(value)
    if count < 0:
        raise CellError("bad_number", "人数不能为负数")
    return count


def coordinate(low: float, high: float) -> Any:
    def parse(value: Any) -> float:
        number = float(parse_decimal(value))
        if not low <= number <= high:
            raise CellError("bad_number", f"应在 {low} 到 {high} 之间")
        return number

    return parse


def parse_uscc(value: Any) -> str:
    try:
        return normalise_uscc(id_text(value))
    except IdNumberError as exc:
        raise CellError(exc.code, exc.message) from None


def parse_component(value: Any) -> str:
    try:
        return parse_component_code(code_text(value)).code
    except IdNumberError as exc:
        raise CellError(exc.code, exc.message) from None


LAT = Column("lat", "纬度", ("lat", "北纬"), False, coordinate(-90, 90), example="33.5012")
LNG = Column("lng", "经度", ("lng", "lon", "东经"), False, coordinate(-180, 180),
             example="119.1434")  # fmt: skip


class _UnitKind(RegistryKind):
    """A kind whose rows name their unit grid directly (a required 网格编码 column)."""

    def validate_row(self, row: dict[str, Any], number: int) -> tuple[dict[str, Any], list]:
        cleaned, errors = super().validate_row(row, number)
        if "lat" in cleaned and (cleaned.get("lat") is None) != (cleaned.get("lng") is None):
            errors.append(RowError(number, "纬度", "invalid_coordinates", "经纬度须同时填写"))
        return cleaned, errors

    def validate_batch(self, rows: list[PreparedRow]) -> None:
        self.load_units({r.cleaned.get("unit") for r in rows} - {None})
        for row in rows:
            unit = self.unit_of(row)
            if unit is not None and self.check_writable(row, unit):
                row.cleaned["_unit"] = unit

    def check_existing(self, row: PreparedRow) -> list[RowError]:
        if not self.update_existing:
            return super().check_existing(row)
        if self.user is not None and can_write(self.scope, row.existing.unit_path):
            return []
        message = f"“{row.key}”已在其他网格登记，无权修改"
        return [RowError(row.number, self.key_column(), DUPLICATE_IN_DB, message)]

    def update_fields(self, obj: Any, c: dict[str, Any], names: Iterable[str], audit: tuple):
        """Non-blank cells overwrite; one audited change per record."""
        before = snapshot(obj, audit)
        for name in names:
            if c.get(name) not in (None, ""):
                setattr(obj, name, c[name])
        obj.save()
        audit_change(obj, before, snapshot(obj, audit), self.user)


@register
class BuildingKind(_UnitKind):
    """楼栋: keyed by (unit grid, 楼号), or by address when there is no number."""

    name = "building"
    label = "楼栋"
    columns = (
        Column("name", "楼栋名称", ("名称", "楼栋"), True, text(100), example="估衣街3号楼"),
        Column("number", "楼号", ("楼栋号", "栋号"), False, text(20), example="3"),
        Column("address", "地址", ("楼栋地址", "门牌地址"), True, text(200), example="估衣街3号"),
        UNIT_COLUMN,
        Column("floors", "层数", ("楼层数", "总层数"), False, parse_floors, example="6"),
        Column("use", "用途", ("房屋用途", "楼栋用途"), False, choice(USE), example="住宅"),
        LAT,
        LNG,
    )  # fmt: skip

    def natural_key(self, cleaned: dict[str, Any]) -> Hashable | None:
        if cleaned.get("number"):
            return (cleaned["unit"], cleaned["number"])
        return ("addr", cleaned["address"])

    def key_column(self) -> str:
        return "楼号"

    def lookup_existing(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        keys = list(keys)
        numbers = {k[1] for k in keys if k[0] != "addr"}
        addresses = {k[1] for k in keys if k[0] == "addr"}
        found: dict[Hashable, Any] = {}
        query = Building.objects.filter(number__in=numbers) | Building.objects.filter(
            address__in=addresses, number=""
        )
        for b in query:
            if not b.number:
                found[("addr", b.address)] = b
            for code, unit in self.units.items():
                if unit is not None and unit.pk == b.unit_id:
                    found[(code, b.number)] = b
        return found

    def apply_batch(self, rows: list[PreparedRow], actor: Any) -> None:
        for row in rows:
            c = row.cleaned
            if row.is_update:
                self.update_fields(row.existing, c, ("name", "address", "floors", "use", "lat",
                                                     "lng"), BUILDING_AUDIT)  # fmt: skip
                continue
            services.building_create(
                user=self.user, unit=c["_unit"], name=c["name"], address=c["address"],
                number=c.get("number") or "", floors=c.get("floors") or 1,
                use=c.get("use") or "residential", lat=c.get("lat"), lng=c.get("lng"),
            )  # fmt: skip


@register
class OrganisationKind(_UnitKind):
    """单位组织: keyed by the unified social credit code when there is one."""

    name = "organisation"
    label = "单位组织"
    columns = (
        Column("name", "名称", ("单位名称", "企业名称", "组织名称", "店名"), True, text(200),
               example="河下老字号茶社"),
        Column("kind", "类别", ("单位类别", "组织类别", "类型"), True, choice(ORG_KIND),
               example="个体商户"),
        Column("uscc", "统一社会信用代码", ("信用代码", "社会信用代码"), False, parse_uscc,
               example="91320803MA1MXXXX0X", help="18位，可不填"),
        Column("legal_person", "法定代表人", ("负责人", "法人", "法定代表人/负责人"), False,
               text(50)),
        Column("phone", "联系电话", ("电话", "联系方式"), False, text(20)),
        Column("address", "地址", ("经营地址", "单位地址"), False, text(200), example="估衣街12号"),
        UNIT_COLUMN,
        Column("employees", "从业人数", ("员工人数", "人数"), False, parse_count),
        LAT,
        LNG,
    )  # fmt: skip

    def natural_key(self, cleaned: dict[str, Any]) -> Hashable | None:
        return cleaned.get("uscc") or None

    def key_column(self) -> str:
        return "统一社会信用代码"

    def lookup_existing(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        return {o.uscc: o for o in Organisation.objects.filter(uscc__in=list(keys))}

    def apply_batch(self, rows: list[PreparedRow], actor: Any) -> None:
        for row in rows:
            c = row.cleaned
            if row.is_update:
                self.update_fields(
                    row.existing,
                    c,
                    ("name", "kind", "legal_person", "phone", "address", "employees"),
                    ORG_AUDIT,
                )
                continue
            services.organisation_create(
                user=self.user, unit=c["_unit"], name=c["name"], kind=c["kind"],
                uscc=c.get("uscc") or "", legal_person=c.get("legal_person") or "",
                phone=c.get("phone") or "", address=c.get("address") or "",
                employees=c.get("employees"), lat=c.get("lat"), lng=c.get("lng"),
            )  # fmt: skip


@register
class ComponentKind(_UnitKind):
    """部件: keyed by the 16-digit code, which also fixes the major and minor class."""

    name = "component"
    label = "部件"
    columns = (
        Column("code", "部件编码", ("编码", "部件代码"), True, parse_component,
               example="3208030101000001", help="16位：区县6+大类2+小类2+流水号6"),
        Column("name", "名称", ("部件名称",), False, text(100), example="上水井盖"),
        Column("state", "状态", ("部件状态",), False, choice(STATE), example="完好"),
        Column("address", "位置描述", ("位置", "地址"), False, text(200), example="估衣街12号门前"),
        Column("owner", "权属单位", ("主管单位", "养护单位"), False, text(100)),
        UNIT_COLUMN,
        LAT,
        LNG,
    )  # fmt: skip

    def natural_key(self, cleaned: dict[str, Any]) -> Hashable | None:
        return cleaned["code"]

    def lookup_existing(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        return {c.code: c for c in Component.objects.filter(code__in=list(keys))}

    def apply_batch(self, rows: list[PreparedRow], actor: Any) -> None:
        for row in rows:
            c = row.cleaned
            if row.is_update:
                self.update_fields(row.existing, c, ("name", "state", "address", "owner", "lat",
                                                     "lng"), COMPONENT_AUDIT)  # fmt: skip
                continue
            services.component_create(
                user=self.user, unit=c["_unit"], code=c["code"], name=c.get("name") or "",
                state=c.get("state") or ComponentState.NORMAL, address=c.get("address") or "",
                owner=c.get("owner") or "", lat=c.get("lat"), lng=c.get("lng"),
            )  # fmt: skip
