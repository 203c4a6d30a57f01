"""Does a grid's set of unit grids cover it exactly? (issue 2: "unit grids covering their grid")

Saving one unit can only check that unit against its parent and siblings; a gap appears
only when the last unit is drawn, or when a neighbour is redrawn later. So coverage is a
report over the whole grid, run on demand (admin page, demo seeding, a periodic check),
rather than a rule that would refuse every intermediate drawing step.
"""

from typing import Any

import shapely
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from . import geometry
from .models import Region


def grid_coverage_report(*, grid: Region, tolerance_m2: float | None = None) -> dict[str, Any]:
    """Gap, overlaps and overhangs of `grid`'s active children, in m², with a point for each.

    `ok` is true when the gap and every overlap or overhang are within the tolerance
    (settings.GRID_BOUNDARY_TOLERANCE_M2 unless given) and every child has a boundary.
    """
    tol = settings.GRID_BOUNDARY_TOLERANCE_M2 if tolerance_m2 is None else tolerance_m2
    units = list(grid.children.filter(is_active=True).order_by("code"))
    drawn = [u for u in units if u.boundary_wkb]
    report: dict[str, Any] = {
        "grid": grid.code,
        "name": grid.name,
        "units": len(units),
        "units_without_boundary": [u.code for u in units if not u.boundary_wkb],
        "gap_m2": None,
        "gap_point": {},
        "overlaps": [],
        "outside": [],
    }
    if not grid.boundary_wkb:
        message = _("网格“%(name)s”尚未绘制边界") % {"name": grid.name}
        return {**report, "ok": False, "message": message}
    grid_geom = grid.geometry
    geoms = [u.geometry for u in drawn]
    gap_m2, gap_point = geometry.coverage_gap(grid_geom, geoms)
    report["gap_m2"] = round(gap_m2, 1)
    report["gap_point"] = gap_point if gap_m2 > tol else {}
    report["overlaps"] = _overlaps(drawn, geoms, tol)
    report["outside"] = _outside(drawn, geoms, grid_geom, tol)
    ok = gap_m2 <= tol and not (
        report["overlaps"] or report["outside"] or report["units_without_boundary"]
    )
    return {**report, "ok": ok, "message": _message(report, ok, tol)}


def _overlaps(units: list[Region], geoms: list, tol: float) -> list[dict[str, Any]]:
    """Pairs of units sharing more than `tol` m²; shared edges do not count."""
    if len(geoms) < 2:
        return []
    pairs = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    out = []
    for i, j in zip(*pairs.tolist(), strict=True):
        if i >= j:
            continue
        overlap = geoms[i].intersection(geoms[j])
        area = geometry.area_m2(overlap)
        if area > tol:
            out.append({
                "a": units[i].code, "b": units[j].code, "area_m2": round(area, 1),
                "point": _point(overlap),
            })  # fmt: skip
    return out


def _outside(units: list[Region], geoms: list, grid_geom, tol: float) -> list[dict[str, Any]]:
    """Units reaching beyond the grid, e.g. after the grid itself was redrawn smaller."""
    out = []
    for unit, geom in zip(units, geoms, strict=True):
        overhang = geom.difference(grid_geom)
        area = geometry.area_m2(overhang)
        if area > tol:
            out.append({"code": unit.code, "area_m2": round(area, 1), "point": _point(overhang)})
    return out


def _point(geom) -> dict[str, float]:
    p = geom.representative_point()
    return {"lat": round(p.y, 6), "lng": round(p.x, 6)}


def _message(report: dict[str, Any], ok: bool, tol: float) -> str:
    if ok:
        return _("基础网格单元完整覆盖网格(容差 %(tol)s 平方米)") % {"tol": f"{tol:g}"}
    parts = []
    if report["gap_m2"] > tol:
        p = report["gap_point"]
        parts.append(
            _("约 %(area).0f 平方米未被单元覆盖(如 纬度%(lat)s,经度%(lng)s)")
            % {"area": report["gap_m2"], "lat": p["lat"], "lng": p["lng"]}
        )
    parts += [
        _("单元 %(a)s 与 %(b)s 重叠约 %(area).0f 平方米")
        % {"a": o["a"], "b": o["b"], "area": o["area_m2"]}
        for o in report["overlaps"]
    ]
    parts += [
        _("单元 %(code)s 超出网格约 %(area).0f 平方米") % {"code": o["code"], "area": o["area_m2"]}
        for o in report["outside"]
    ]
    if report["units_without_boundary"]:
        n = len(report["units_without_boundary"])
        parts.append(ngettext("%(n)s 个单元未绘制边界", "%(n)s 个单元未绘制边界", n) % {"n": n})
    return pgettext("list separator", ";").join(parts)
