"""Boundary parsing and validation. Messages say what is wrong and where, in the active
language (Chinese by default).

Areas are computed in square metres with a local equirectangular scale at the shape's
latitude: exact enough for street-sized grids and free of any projection library.
"""

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity

MAX_VERTICES = 20_000
MIN_AREA_M2 = 1.0
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LNG_EQUATOR = 111_320.0


@dataclass
class BoundaryError(ValueError):
    message: str
    code: str = "invalid_boundary"
    where: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def area_m2(geom) -> float:
    if geom is None or geom.is_empty:
        return 0.0
    lat = geom.centroid.y
    scale = M_PER_DEG_LAT * M_PER_DEG_LNG_EQUATOR * math.cos(math.radians(lat))
    return geom.area * scale


def where(geom) -> dict[str, float]:
    p = geom.representative_point() if not geom.is_empty else None
    return {"lat": round(p.y, 6), "lng": round(p.x, 6)} if p is not None else {}


def _translate_validity(reason: str) -> str:
    kinds = {
        "Self-intersection": _("边界自相交"),
        "Ring Self-intersection": _("环自相交"),
        "Too few points": _("顶点太少"),
        "Hole lies outside shell": _("内环在外环之外"),
        "Nested shells": _("多边形相互嵌套"),
        "Interior is disconnected": _("内部不连通"),
        "Duplicate Rings": _("重复的环"),
    }
    reason = reason.replace(" in geometry component", "")
    for en, zh in kinds.items():
        if reason.startswith(en):
            return reason.replace(en, zh, 1)
    return _("几何无效:%(reason)s") % {"reason": reason}


def parse_boundary(data: Any) -> Polygon | MultiPolygon:
    """GeoJSON (Polygon, MultiPolygon or a Feature of one; dict or text) → valid geometry."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except (ValueError, TypeError) as exc:
            raise BoundaryError(_("边界不是有效的 GeoJSON 文本"), "invalid_json") from exc
    if not isinstance(data, dict):
        raise BoundaryError(_("边界应为 GeoJSON 对象"), "invalid_geojson")
    if data.get("type") == "Feature":
        data = data.get("geometry") or {}
    if data.get("type") not in ("Polygon", "MultiPolygon"):
        raise BoundaryError(_("边界类型应为 Polygon 或 MultiPolygon"), "invalid_geometry_type")
    try:
        geom = shape(data)
    except Exception as exc:  # noqa: BLE001 - shapely raises many kinds on bad coordinates
        raise BoundaryError(
            _("坐标格式错误:%(error)s") % {"error": exc}, "invalid_coordinates"
        ) from exc
    return _check_parsed(geom)


def _check_parsed(geom) -> Polygon | MultiPolygon:
    if geom.is_empty:
        raise BoundaryError(_("边界为空"), "empty_boundary")
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise BoundaryError(
            _("边界顶点过多(上限 %(max)s)") % {"max": MAX_VERTICES}, "too_many_vertices"
        )
    # GEOS bounds skip NaN, so look at every coordinate, not just the envelope.
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise BoundaryError(_("坐标含非数字值"), "invalid_coordinates")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise BoundaryError(_("坐标超出经纬度范围(经度±180,纬度±90)"), "coordinates_out_of_range")
    if shapely.has_z(geom):
        geom = shapely.force_2d(geom)
    if not geom.is_valid:
        reason = explain_validity(geom)
        loc = {}
        if "[" in reason:
            try:
                x, y = reason.rsplit("[", 1)[1].rstrip("]").split()[:2]
                loc = {"lat": round(float(y), 6), "lng": round(float(x), 6)}
            except ValueError:
                loc = {}
        raise BoundaryError(_translate_validity(reason), "invalid_ring", loc)
    if area_m2(geom) < MIN_AREA_M2:  # collinear rings pass is_valid with float-noise area
        raise BoundaryError(
            _("边界面积为零或过小(不足 %(min)s 平方米)") % {"min": f"{MIN_AREA_M2:g}"},
            "zero_area",
        )
    return geom


def check_inside_parent(geom, parent_geom, *, tolerance_m2: float, parent_name: str) -> None:
    outside = geom.difference(parent_geom)
    if area_m2(outside) > tolerance_m2:
        raise BoundaryError(
            _("边界超出上级“%(parent)s”约 %(area).0f 平方米")
            % {"parent": parent_name, "area": area_m2(outside)},
            "outside_parent",
            where(outside),
        )


def check_no_overlap(geom, siblings: list[tuple[str, Any]], *, tolerance_m2: float) -> None:
    if not siblings:
        return
    tree = shapely.STRtree([g for _, g in siblings])
    for idx in tree.query(geom, predicate="intersects"):
        name, other = siblings[int(idx)]
        overlap = geom.intersection(other)
        if area_m2(overlap) > tolerance_m2:
            raise BoundaryError(
                _("与同级“%(name)s”重叠约 %(area).0f 平方米")
                % {"name": name, "area": area_m2(overlap)},
                "overlaps_sibling",
                where(overlap),
            )


def coverage_gap(geom, children: list[Any]) -> tuple[float, dict[str, float]]:
    """Area (m²) of `geom` not covered by `children`, and a point inside the gap."""
    if not children:
        return area_m2(geom), where(geom)
    gap = geom.difference(shapely.union_all(children))
    return area_m2(gap), where(gap) if not gap.is_empty else {}
