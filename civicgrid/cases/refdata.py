"""The reference data a case intake reads, as per-process snapshots (core/refcache.py):
categories by code and id, the responsibility list, active departments, grid types.

Every save or delete of a Category, RoutingRule or Department bumps "cases.reference", and of
a Region "cases.grid_types" (signals wired in apps.py), so edits by an administrator apply at
the next request of every process. Writes that skip signals (bulk_create, queryset.update) on
these models must call `refcache_bump` themselves; a unit grid missing from the snapshot is
read from the database, so a bulk-created grid is never mis-classed.
"""

from __future__ import annotations

from dataclasses import dataclass

from civicgrid.core.refcache import RefCache, refcache_bump
from civicgrid.grids.choices import Level
from civicgrid.grids.models import Department, Region

from .models import Category, RoutingRule

REFERENCE = "cases.reference"
GRID_TYPES = "cases.grid_types"


@dataclass(frozen=True)
class Reference:
    by_code: dict[str, Category]
    by_id: dict[int, Category]
    rules: dict[int, list[tuple[str, int, int]]]  # category id → (region path, cat id, dept id)
    departments: dict[int, Department]  # active only


def _load_reference() -> Reference:
    categories = list(Category.objects.select_related("parent"))
    rules: dict[int, list[tuple[str, int, int]]] = {}
    active_rules = RoutingRule.objects.filter(is_active=True, department__is_active=True)
    for row in active_rules.values_list("region__path", "category_id", "department_id"):
        rules.setdefault(row[1], []).append(row)
    return Reference(
        by_code={c.code: c for c in categories},
        by_id={c.pk: c for c in categories},
        rules=rules,
        departments={d.pk: d for d in Department.objects.filter(is_active=True)},
    )


def _load_grid_types() -> dict[int, str]:
    units = Region.objects.filter(level=Level.UNIT).values_list("pk", "parent__grid_type")
    return {pk: grid_type or "" for pk, grid_type in units}


reference = RefCache(REFERENCE, _load_reference)
grid_types = RefCache(GRID_TYPES, _load_grid_types)


def category_by_code(code: str) -> Category | None:
    return reference.get().by_code.get(code)


def grid_type_of(unit_id: int) -> str:
    """The type of the grid a unit belongs to (for the area class of its time limits)."""
    found = grid_types.get().get(unit_id)
    if found is not None:
        return found
    rows = Region.objects.filter(pk=unit_id).values_list("parent__grid_type", flat=True)
    return next(iter(rows), None) or ""


def on_reference_change(**kwargs) -> None:
    refcache_bump(REFERENCE)


def on_region_change(**kwargs) -> None:
    refcache_bump(GRID_TYPES)
