"""Shared pieces of the registry's import kinds: the acting user, unit grids and places.

Every kind places its rows in a unit grid the importing user may write, the way the
registry services do, but resolves grids, buildings, rooms and households for a whole batch
in one query each (an office register has thousands of rows; one query per row would make
the import crawl). Caches live on the kind instance, which lasts one run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from civicgrid.accounts.scope import UserScope, scope_of
from civicgrid.core.imports import CellError, Column, ImportKind, PreparedRow, RowError, clean_text
from civicgrid.grids.models import Region

from .models import Building, Household, Room
from .permissions import can_write

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ROOM_LABEL = re.compile(r"^\s*(?:([0-9A-Za-z]+)\s*[-－—]\s*)?(\d+)\s*[-－—]\s*(\d{1,6})\s*$")
_ROOM_WORDS = re.compile(r"^(?:([0-9A-Za-z]+)(?:号楼|栋|幢))?(?:(\d+)单元)?(\d{1,6})室?$")

UNKNOWN_GRID = "unknown_grid"
NO_PERMISSION = "no_permission"
NO_PLACE = "no_place"
UNKNOWN_BUILDING = "unknown_building"
# Buildings, rooms and households remembered across batches; past this many they are dropped
# and reloaded per batch, so a register of a million people in 300,000 households does not
# keep every household in memory (the ones this run created are in the database by then).
PLACE_CACHE_LIMIT = 20_000


def text(max_len: int) -> Callable[[Any], str]:
    """Parser for free text: cleaned, no control characters (PostgreSQL refuses NUL)."""

    def parse(value: Any) -> str:
        cleaned = clean_text(value)
        if _CONTROL.search(cleaned):
            raise CellError("bad_text", "不能包含控制字符")
        if len(cleaned) > max_len:
            raise CellError("too_long", f"不能超过 {max_len} 个字")
        return cleaned

    return parse


def code_text(value: Any) -> str:
    """A code typed as a number or text (grid and component codes fit a double exactly)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    return re.sub(r"\s+", "", clean_text(value))


def parse_room(value: Any) -> tuple[str, str, str]:
    """`3-2-501`, `2-501`, `3号楼2单元501室`, `501` → (building no., entrance, room no.)."""
    label = clean_text(value).replace(" ", "")
    m = _ROOM_LABEL.match(label)
    if m:
        return m.group(1) or "", m.group(2), m.group(3)
    m = _ROOM_WORDS.match(label)
    if m and m.group(3):
        return m.group(1) or "", m.group(2) or "", m.group(3)
    raise CellError("invalid_room", f"房号“{label}”格式应为 楼号-单元-房号，如 3-2-501")


UNIT_COLUMN = Column(
    "unit", "网格编码",
    ("所属网格", "网格", "基础网格单元", "网格单元", "所属网格单元", "网格名称", "网格单元编码"),
    parser=code_text, example="32080300100101", help="基础网格单元的14位编码或名称",
)  # fmt: skip
BUILDING_COLUMN = Column(
    "building", "楼栋", ("楼栋地址", "所在楼栋", "楼号", "楼栋名称"), parser=text(200),
    example="估衣街3号", help="楼栋的地址或楼号（须先导入楼栋）",
)  # fmt: skip
ROOM_COLUMN = Column(
    "room", "房号", ("房屋", "门牌号", "室号", "单元房号"), parser=parse_room,
    example="3-2-501", help="楼号-单元-房号，如 3-2-501；房屋不存在时自动登记",
)  # fmt: skip


def system_user() -> Any:
    """The actor of a shell import without --user: the first active superuser."""
    users = get_user_model().objects.filter(is_superuser=True, is_active=True)
    return users.order_by("pk").first()


class RegistryKind(ImportKind):
    """Base of the registry kinds: resolves unit grids and checks write scope per batch."""

    unit_required = True

    def __init__(self, *, actor: Any = None) -> None:
        super().__init__(actor=actor)
        self.user = actor if actor is not None else system_user()
        self.scope: UserScope = scope_of(self.user)
        self.units: dict[str, Region | None] = {}

    # --- grids --------------------------------------------------------------------------
    def load_units(self, values: set[str]) -> None:
        wanted = {v for v in values if v and v not in self.units}
        if not wanted:
            return
        found = Region.objects.filter(level="unit").filter(Q(code__in=wanted) | Q(name__in=wanted))
        by_name: dict[str, list[Region]] = {}
        for region in found:
            self.units[region.code] = region
            by_name.setdefault(region.name, []).append(region)
        for name, regions in by_name.items():
            self.units.setdefault(name, regions[0] if len(regions) == 1 else None)
        for value in wanted:
            self.units.setdefault(value, None)

    def unit_of(self, row: PreparedRow) -> Region | None:
        value = row.cleaned.get("unit")
        if not value:
            return None
        unit = self.units.get(value)
        if unit is None:
            self.refuse(row, "unit", UNKNOWN_GRID, f"网格“{value}”不存在（应填基础网格单元编码）")
        return unit

    def check_writable(self, row: PreparedRow, unit: Region, column: str = "unit") -> bool:
        if self.user is None:
            self.refuse(row, column, NO_PERMISSION, "命令行导入请用 --user 指定操作人")
            return False
        if not can_write(self.scope, unit.path):
            self.refuse(row, column, NO_PERMISSION, f"网格“{unit.name}”不在您的登记权限范围内")
            return False
        return True

    def refuse(self, row: PreparedRow, column: str, code: str, message: str) -> None:
        label = self.column(column).label if column in self.column_names() else column
        row.errors.append(RowError(row.number, label, code, message))

    @classmethod
    def column_names(cls) -> set[str]:
        return {c.name for c in cls.columns}


class PlacementMixin:
    """Rooms, buildings and households named by a row, resolved once per batch.

    A row may give a unit grid code, a building (address or number within the unit), a room
    label and a household number; the most specific one decides the unit grid, and a
    contradiction between them refuses the row rather than guessing.
    """

    buildings: dict[tuple, Building | None]
    rooms: dict[tuple[int, str, str], Room]
    households: dict[str, list[Household]]

    def load_places(self, rows: list[PreparedRow]) -> None:
        if not hasattr(self, "buildings") or self._places_cached() > PLACE_CACHE_LIMIT:
            self.buildings, self.rooms, self.households = {}, {}, {}
            for name in ("new_rooms", "new_households"):  # PersonKind's, committed by now
                if hasattr(self, name):
                    setattr(self, name, {})
        addresses, numbers = set(), set()
        for row in rows:
            address, number = self._building_ref(row)
            if address:
                addresses.add(address)
            if number:
                numbers.add(number)
        unit_ids = {u.pk for u in self.units.values() if u is not None}
        query = Q(address__in=addresses) | Q(number__in=addresses) & Q(unit_id__in=unit_ids)
        query |= Q(number__in=numbers, unit_id__in=unit_ids)
        found = (
            list(Building.objects.filter(query).select_related("unit"))
            if addresses or numbers
            else []
        )
        for b in found:
            self.buildings[("addr", b.address)] = b
            self.buildings[("no", b.unit_id, b.number)] = b
        if found:
            for room in Room.objects.filter(building__in=found):
                self.rooms[(room.building_id, room.entrance, room.number)] = room
        wanted = {r.cleaned.get("household") for r in rows} - {None, ""} - set(self.households)
        if wanted:
            for h in Household.objects.filter(number__in=wanted).select_related("room", "unit"):
                self.households.setdefault(h.number, []).append(h)

    def _places_cached(self) -> int:
        names = ("buildings", "rooms", "households", "new_rooms", "new_households")
        return sum(len(getattr(self, name, ())) for name in names)

    def _building_ref(self, row: PreparedRow) -> tuple[str, str]:
        """(address text, building number) the row names, either may be empty."""
        building = row.cleaned.get("building") or ""
        room = row.cleaned.get("room")
        number = room[0] if room else ""
        if building.isdigit() or re.fullmatch(r"\d+(号楼|栋|幢)", building):
            return "", number or re.sub(r"\D", "", building)
        return building, number

    def building_of(self, row: PreparedRow, unit: Any) -> Building | None:
        address, number = self._building_ref(row)
        found = None
        if address:
            found = self.buildings.get(("addr", address))
            if found is None and unit is not None:
                found = self.buildings.get(("no", unit.pk, address))
        if found is None and number and unit is not None:
            found = self.buildings.get(("no", unit.pk, number))
        if found is None and (address or (number and row.cleaned.get("building"))):
            message = f"楼栋“{address or number}”未登记，请先导入楼栋"
            self.refuse(row, "building", UNKNOWN_BUILDING, message)
        elif found is None and number and unit is None:
            self.refuse(row, "unit", NO_PLACE, "只填房号时须同时填写网格编码或楼栋")
        return found

    def place_of(self, row: PreparedRow) -> tuple[Any, Building | None]:
        """(unit grid, building) of a row, refusing contradictions; (None, None) if unknown."""
        unit = self.unit_of(row)
        if row.errors:
            return None, None
        building = None
        if row.cleaned.get("building") or row.cleaned.get("room"):
            building = self.building_of(row, unit)
            if row.errors:
                return None, None
        if building is not None:
            if unit is not None and building.unit_id != unit.pk:
                self.refuse(row, "building", "unit_mismatch", "楼栋不在所填网格单元内")
                return None, None
            unit = building.unit
        return unit, building

    def room_key(self, row: PreparedRow, building: Building | None) -> tuple | None:
        room = row.cleaned.get("room")
        if building is None or not room:
            return None
        return (building.pk, room[1], room[2])
