"""The grid map (J6): the page, its GeoJSON feed and the HTMX side panel of one region.

Every read goes through `selectors`, so a user only ever sees regions in their scope and an
out-of-scope code answers 404 without saying whether it exists.
"""

import json

import shapely
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from civicgrid.accounts.decorators import region_viewer_required

from . import selectors
from .choices import GridType, Level, PostRole
from .models import Region
from .panel import panel_sections

MAP_LEVELS = (Level.COMMUNITY, Level.GRID, Level.UNIT)
POST_ORDER = {role: n for n, role in enumerate(PostRole.values)}
# Fill colours per grid type; the legend in the template reads the same table.
GRID_COLOURS = {
    GridType.RESIDENTIAL: "#2e9d5b",
    GridType.BUSINESS: "#e8890c",
    GridType.BUILDING: "#4f5bd5",
}


@region_viewer_required
@require_GET
def grid_map(request: HttpRequest) -> HttpResponse:
    legend = [(t.value, t.label, GRID_COLOURS[t]) for t in GridType]
    selected = request.GET.get("region", "")
    context = {
        "legend": legend,
        "colours_json": json.dumps({k.value: v for k, v in GRID_COLOURS.items()}),
        "selected": selected if selected.isdigit() else "",
        "panel_url_template": reverse("grids:region_panel", args=["CODE"]),
    }
    return render(request, "grids/map.html", context)


@region_viewer_required
@require_GET
def regions_geojson(request: HttpRequest) -> JsonResponse:
    """The regions of one level in the user's scope as a GeoJSON FeatureCollection.

    `parent=<code>` narrows to one region's children; a parent outside the scope is a 404.
    One query for the regions however many there are; boundaries are parsed in bulk.
    """
    level = request.GET.get("level", Level.GRID)
    if level not in MAP_LEVELS:
        return JsonResponse({"code": "invalid_level", "message": _("不支持的层级"),
                             "details": {"level": level}}, status=400)  # fmt: skip
    qs = selectors.region_list(user=request.user).filter(level=level, is_active=True)
    parent_code = request.GET.get("parent")
    if parent_code:
        qs = qs.filter(parent=selectors.region_get(user=request.user, code=parent_code))
    rows = list(
        qs.exclude(boundary_wkb=None).order_by("code").values(
            "code", "name", "level", "grid_type", "parent__code", "area_m2",
            "centroid_lat", "centroid_lng", "boundary_wkb",
        )
    )  # fmt: skip
    return JsonResponse({"type": "FeatureCollection", "features": _features(rows)})


def _features(rows: list[dict]) -> list[dict]:
    geoms = shapely.from_wkb([bytes(r["boundary_wkb"]) for r in rows]) if rows else []
    type_labels = dict(GridType.choices)
    features = []
    for row, geom in zip(rows, geoms, strict=True):
        props = {
            "code": row["code"],
            "name": row["name"],
            "level": row["level"],
            "grid_type": row["grid_type"],
            "grid_type_label": str(type_labels.get(row["grid_type"], "")),
            "parent": row["parent__code"],
            "area_m2": row["area_m2"],
            "label_at": [row["centroid_lat"], row["centroid_lng"]],
        }
        features.append({"type": "Feature", "id": row["code"], "properties": props,
                         "geometry": json.loads(shapely.to_geojson(geom))})  # fmt: skip
    return features


@region_viewer_required
@require_GET
def region_panel(request: HttpRequest, code: str) -> HttpResponse:
    """Side panel of one grid or unit grid; a plain request gets the map with it preselected."""
    region = selectors.region_get(user=request.user, code=code)
    if not request.htmx:
        return redirect(f"{reverse('grids:map')}?region={region.code}")
    return render(request, "grids/partials/region_panel.html", _panel_context(request, region))


def _panel_context(request: HttpRequest, region: Region) -> dict:
    user = request.user
    grid = region if region.level == Level.GRID else None
    if region.level == Level.UNIT:
        grid = region.parent
    units = []
    if region.level == Level.GRID:
        units = list(selectors.region_list(user=user).filter(parent=region, level=Level.UNIT)
                     .order_by("code").only("code", "name", "area_m2"))  # fmt: skip
    posts = []
    if grid is not None:
        posts = sorted(selectors.grid_post_list(user=user, grid=grid),
                       key=lambda p: (POST_ORDER[p.role], p.pk))  # fmt: skip
    return {
        "region": region,
        "parent": region.parent,
        "grid": grid,
        "units": units,
        "posts": posts,
        "area": _area_text(region.area_m2),
        "colour": GRID_COLOURS.get(region.grid_type or (grid.grid_type if grid else ""), ""),
        "sections": panel_sections(user=user, region=region),
    }


def _area_text(area_m2: float | None) -> str:
    """Large areas in km², small ones in m²: what a street officer reads at a glance."""
    if area_m2 is None:
        return "—"
    if area_m2 >= 100_000:
        return _("%(km2).2f 平方千米") % {"km2": area_m2 / 1_000_000}
    return _("%(m2)s 平方米") % {"m2": f"{area_m2:,.0f}"}
