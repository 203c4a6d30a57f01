"""Boundary validation through the services: what is refused, what the message says, and
that a refused boundary writes nothing (no region, no audit row, no geo version bump)."""

import json
import math

import pytest
import shapely
from shapely.geometry import mapping

from civicgrid.core.models import AuditLog
from civicgrid.core.testing.factories import rect
from civicgrid.grids import services
from civicgrid.grids.geometry import MAX_VERTICES, BoundaryError
from civicgrid.grids.models import GeoIndexState, Region

pytestmark = pytest.mark.django_db

NEW_UNIT = {"name": "新单元", "level": "unit", "code": "32080300100105"}
# Crosses itself at (119.1125, 33.49).
BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[119.10, 33.48], [119.125, 33.50], [119.125, 33.48], [119.10, 33.50], [119.10, 33.48]]
    ],
}


def polygon(*ring: tuple[float, float]) -> dict:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def state() -> tuple:
    """Everything a refused boundary must leave untouched."""
    version = GeoIndexState.objects.values_list("version", flat=True).first()
    wkbs = sorted(bytes(w) for w in Region.objects.values_list("boundary_wkb", flat=True) if w)
    return Region.objects.count(), AuditLog.objects.count(), version, wkbs


def refuse_create(tree, boundary) -> BoundaryError:
    before = state()
    with pytest.raises(BoundaryError) as exc:
        services.region_create(parent=tree.grid_a, boundary=boundary, **NEW_UNIT)
    assert state() == before
    return exc.value


def refuse_change(region, boundary) -> BoundaryError:
    before = state()
    with pytest.raises(BoundaryError) as exc:
        services.region_set_boundary(region=region, boundary=boundary)
    assert state() == before
    return exc.value


def test_bowtie_is_refused_with_where(tree):
    err = refuse_create(tree, BOWTIE)
    assert err.code == "invalid_ring"
    assert "自相交" in err.message
    assert err.where == {"lat": 33.49, "lng": 119.1125}


def test_bowtie_on_existing_region_keeps_old_boundary(tree):
    unit = tree.units_a[0]
    err = refuse_change(unit, BOWTIE)
    assert "自相交" in str(err)
    unit.refresh_from_db()
    assert unit.geometry.equals(shapely.box(119.10, 33.48, 119.125, 33.50))


def test_outside_parent(tree):
    err = refuse_change(tree.units_a[0], rect(119.10, 33.48, 119.13, 33.50))
    assert err.code == "outside_parent"
    assert "估衣街网格" in err.message and "平方米" in err.message
    assert 119.125 < err.where["lng"] < 119.13 and 33.48 < err.where["lat"] < 33.50


def test_overlapping_sibling(tree):
    err = refuse_change(tree.units_a[0], rect(119.10, 33.48, 119.125, 33.505))
    assert err.code == "overlaps_sibling"
    assert tree.units_a[1].name in err.message
    assert 33.50 < err.where["lat"] < 33.505


def test_new_unit_overlapping_siblings_is_refused(tree):
    err = refuse_create(tree, rect(119.11, 33.49, 119.12, 33.51))
    assert err.code == "overlaps_sibling"


def test_touching_siblings_and_tolerance_are_accepted(tree, settings):
    """Shared edges are not overlaps; slivers under the tolerance are allowed."""
    settings.GRID_BOUNDARY_TOLERANCE_M2 = 50.0
    sliver = rect(119.10, 33.48, 119.125, 33.5000001)  # ~26 m² over unit 02
    services.region_set_boundary(region=tree.units_a[0], boundary=sliver)


@pytest.mark.parametrize(
    ("boundary", "code"),
    [
        ("not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (42, "invalid_geojson"),
        ([119.1, 33.5], "invalid_geojson"),
        ({"type": "Feature"}, "invalid_geometry_type"),
        ({"type": "FeatureCollection", "features": []}, "invalid_geometry_type"),
        ({"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}, "invalid_geometry_type"),
        ({"type": "Polygon"}, "invalid_coordinates"),
        ({"type": "Polygon", "coordinates": [[["a", "b"], [1, 0], [1, 1]]]}, "invalid_coordinates"),
        ({"type": "Polygon", "coordinates": []}, "empty_boundary"),
    ],
)
def test_not_geojson(tree, boundary, code):
    assert refuse_create(tree, boundary).code == code


@pytest.mark.parametrize(
    "boundary",
    [
        {"type": "Point", "coordinates": [119.11, 33.49]},
        {"type": "LineString", "coordinates": [[119.10, 33.48], [119.11, 33.49]]},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [119.11, 33.49]}},
        {"type": "GeometryCollection", "geometries": []},
    ],
)
def test_wrong_geometry_type(tree, boundary):
    err = refuse_create(tree, boundary)
    assert err.code == "invalid_geometry_type"
    assert "Polygon" in err.message


@pytest.mark.parametrize(
    "boundary",
    [
        rect(180.5, 33.48, 181.0, 33.50),
        rect(-181.0, 33.48, -179.0, 33.50),
        rect(119.10, 89.9, 119.11, 90.5),
        rect(119.10, -91.0, 119.11, -89.0),
    ],
)
def test_coordinates_out_of_range(tree, boundary):
    err = refuse_create(tree, boundary)
    assert err.code == "coordinates_out_of_range"
    assert "±180" in err.message


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_coordinates(tree, bad):
    boundary = polygon((119.10, 33.48), (bad, 33.49), (119.12, 33.50), (119.10, 33.48))
    err = refuse_create(tree, boundary)
    assert err.code == "invalid_coordinates"
    assert "非数字" in err.message
    json.dumps(err.where, allow_nan=False)  # the API must be able to send it


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_in_geojson_text(tree):
    text = (
        '{"type":"Polygon","coordinates":[[[119.1,33.48],[NaN,33.49],[119.12,33.5],[119.1,33.48]]]}'
    )
    assert refuse_create(tree, text).code == "invalid_coordinates"


def test_too_many_vertices(tree):
    circle = shapely.Point(119.1125, 33.49).buffer(0.004, quad_segs=MAX_VERTICES // 4 + 1)
    assert shapely.get_num_coordinates(circle) > MAX_VERTICES
    err = refuse_create(tree, mapping(circle))
    assert err.code == "too_many_vertices"
    assert str(MAX_VERTICES) in err.message


@pytest.mark.parametrize(
    ("ring", "phrase"),
    [
        (((119.10, 33.48), (119.11, 33.49), (119.10, 33.48)), None),  # too few points
        (((119.10, 33.48), (119.11, 33.49), (119.12, 33.50), (119.10, 33.48)), "面积"),
        (((119.10, 33.48), (119.11, 33.48), (119.11, 33.48), (119.10, 33.48)), None),
    ],
)
def test_degenerate_rings(tree, ring, phrase):
    err = refuse_create(tree, polygon(*ring))
    if phrase:
        assert phrase in err.message
    assert "geometry component" not in err.message  # user-facing text is Chinese


def test_refused_boundary_on_create_writes_nothing_even_with_valid_code(tree):
    before = state()
    with pytest.raises(BoundaryError):
        services.region_create(
            name="淮城2单元",
            level="unit",
            code="32080300200102",
            parent=tree.other_grid,
            boundary=rect(119.15, 33.48, 119.16, 33.49),  # overlaps 淮城1单元
        )
    assert state() == before
    assert not Region.objects.filter(code="32080300200102").exists()


def test_feature_and_text_and_z_are_accepted(tree):
    """Valid input in its other accepted forms is stored as 2-D WKB and bumps the version."""
    services.region_set_boundary(
        region=tree.units_b[1], boundary=rect(119.125, 33.50, 119.14, 33.52)
    )
    version = GeoIndexState.objects.get(pk=1).version
    ring = [
        [119.14, 33.50, 7.0],
        [119.15, 33.50, 7.0],
        [119.15, 33.52, 7.0],
        [119.14, 33.52, 7.0],
        [119.14, 33.50, 7.0],
    ]
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    unit = services.region_create(
        name="新单元",
        level="unit",
        code="32080300100105",
        parent=tree.grid_b,
        boundary=json.dumps(feature),
    )
    assert not unit.geometry.has_z
    assert unit.geo_version == version + 1 == GeoIndexState.objects.get(pk=1).version
    assert AuditLog.objects.filter(object_id=str(unit.pk), action="create").count() == 1


def test_redrawn_grid_must_still_hold_its_units(tree):
    from civicgrid.core.testing.factories import rect
    from civicgrid.grids.geometry import BoundaryError
    from civicgrid.grids.services import region_set_boundary

    with pytest.raises(BoundaryError) as exc:
        region_set_boundary(region=tree.grid_a, boundary=rect(119.10, 33.48, 119.125, 33.50))
    assert exc.value.code == "child_outside" and "估衣街2单元" in exc.value.message
