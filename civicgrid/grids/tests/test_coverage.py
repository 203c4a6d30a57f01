"""grid_coverage_report: gaps, overlaps, overhangs and undrawn units of a grid's unit grids."""

import pytest
import shapely

from civicgrid.core.testing.factories import rect
from civicgrid.grids import services
from civicgrid.grids.coverage import grid_coverage_report
from civicgrid.grids.models import Region

pytestmark = pytest.mark.django_db


def test_fully_covered_grid_is_ok(tree):
    report = grid_coverage_report(grid=tree.grid_a)
    assert report["ok"] is True
    assert report["units"] == 2 and report["gap_m2"] == 0
    assert report["overlaps"] == [] and report["outside"] == [] and report["gap_point"] == {}
    assert "完整覆盖" in report["message"]


def test_gap_has_area_and_a_point_inside_it(tree):
    services.region_set_boundary(
        region=tree.units_a[1], boundary=rect(119.10, 33.50, 119.125, 33.51)
    )
    report = grid_coverage_report(grid=tree.grid_a)
    assert report["ok"] is False
    # 0.025° × 0.01° at 33.5° N is about 2.3 km × 1.1 km / 10 ≈ 256,000 m².
    assert report["gap_m2"] == pytest.approx(0.025 * 0.01 * 110_574 * 111_320 * 0.8339, rel=0.01)
    point = report["gap_point"]
    assert 33.51 < point["lat"] < 33.52 and 119.10 < point["lng"] < 119.125
    assert "未被单元覆盖" in report["message"]


def test_gap_within_tolerance_is_ok(tree):
    services.region_set_boundary(
        region=tree.units_a[1], boundary=rect(119.10, 33.50, 119.125, 33.5199999)
    )
    assert grid_coverage_report(grid=tree.grid_a, tolerance_m2=100)["ok"] is True
    assert grid_coverage_report(grid=tree.grid_a, tolerance_m2=1)["ok"] is False


def test_overlapping_units_are_listed(tree):
    """Services refuse overlaps, but imported or legacy rows can still carry them."""
    Region.objects.filter(pk=tree.units_a[0].pk).update(
        boundary_wkb=shapely.to_wkb(shapely.box(119.10, 33.48, 119.125, 33.505))
    )
    report = grid_coverage_report(grid=tree.grid_a)
    assert report["ok"] is False
    [overlap] = report["overlaps"]
    assert (overlap["a"], overlap["b"]) == (tree.units_a[0].code, tree.units_a[1].code)
    assert overlap["area_m2"] > 100_000
    assert 33.50 < overlap["point"]["lat"] < 33.505
    assert "重叠" in report["message"]


def test_units_outside_a_shrunken_grid(tree):
    # The services refuse such a redraw; legacy data loaded behind their back can still hold it.
    import shapely
    from shapely.geometry import shape

    grid = tree.grid_a
    grid.boundary_wkb = shapely.to_wkb(shape(rect(119.10, 33.48, 119.125, 33.51)))
    grid.save(update_fields=["boundary_wkb"])
    report = grid_coverage_report(grid=grid)
    assert [o["code"] for o in report["outside"]] == [tree.units_a[1].code]
    assert report["outside"][0]["point"]["lat"] > 33.51
    assert "超出网格" in report["message"]


def test_inactive_units_leave_a_gap(tree):
    services.region_update(region=tree.units_a[0], is_active=False)
    report = grid_coverage_report(grid=tree.grid_a)
    assert report["units"] == 1 and report["gap_m2"] > 0
    assert report["gap_point"]["lat"] < 33.50


def test_undrawn_unit_and_undrawn_grid(tree):
    services.region_set_boundary(
        region=tree.units_b[1], boundary=rect(119.125, 33.50, 119.14, 33.52)
    )
    services.region_create(
        name="未绘制单元", level="unit", code="32080300100105", parent=tree.grid_b
    )
    report = grid_coverage_report(grid=tree.grid_b)
    assert report["units_without_boundary"] == ["32080300100105"]
    assert report["ok"] is False and "未绘制边界" in report["message"]

    grid = services.region_create(
        name="楼宇网格",
        level="grid",
        code="32080300100191",
        parent=tree.community,
        grid_type="building",
    )
    report = grid_coverage_report(grid=grid)
    assert report["ok"] is False and report["gap_m2"] is None
    assert "尚未绘制边界" in report["message"]
