"""pointindex: the pure-Python point query agrees with shapely's `intersects`, exactly.

Shapely (GEOS, robust predicates) is the reference: random polygons with holes, multipolygons,
points inside, outside, on edges and vertices, and points one float step from an edge that two
units share, where a naive float test can put the point in both units or in neither.
"""

import math
from itertools import pairwise

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from civicgrid.grids.pointindex import DETAILED_VERTICES, WIDE_CELLS, Shape, grid_build, ring_side

SQUARE = shapely.box(0.0, 0.0, 1.0, 1.0)


def reference(geom, x: float, y: float) -> bool:
    return bool(shapely.intersects_xy(geom, x, y))


def test_square_inside_outside_edges_and_corners():
    shape = Shape.of(SQUARE)
    inside = [(0.5, 0.5), (1e-300, 0.5), (0.999999, 0.000001)]
    boundary = [(0.0, 0.0), (1.0, 1.0), (0.0, 0.5), (0.5, 1.0), (1.0, 0.25), (0.75, 0.0)]
    outside = [(-1e-300, 0.5), (1.5, 0.5), (0.5, -0.1), (0.5, math.nextafter(1.0, 2.0))]
    assert all(shape.covers(x, y) for x, y in inside + boundary)
    assert not any(shape.covers(x, y) for x, y in outside)


def test_hole_interior_is_outside_and_its_edge_inside():
    ring = shapely.Polygon(
        [(0, 0), (4, 0), (4, 4), (0, 4)], holes=[[(1, 1), (3, 1), (3, 3), (1, 3)]]
    )
    shape = Shape.of(ring)
    assert not shape.covers(2.0, 2.0)  # in the hole
    assert shape.covers(1.0, 2.0)  # on the hole's edge
    assert shape.covers(3.0, 3.0)  # the hole's corner
    assert shape.covers(0.5, 2.0)  # between the outer ring and the hole


def test_multipolygon_covers_each_part():
    parts = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6)])
    shape = Shape.of(parts)
    assert shape.covers(0.5, 0.5) and shape.covers(5.5, 5.5)
    assert not shape.covers(3.0, 3.0)


def test_point_next_to_a_shared_slanted_edge_is_in_exactly_one_unit():
    """A slanted edge shared by two triangles: points one float step either side of it, and
    on it, at many places along it. Exact arithmetic is what makes this hold."""
    a, b = (119.1000001, 33.4800003), (119.1250007, 33.5200011)
    left = shapely.Polygon([a, b, (119.09, 33.52)])
    right = shapely.Polygon([a, (119.14, 33.48), b])
    shapes = [Shape.of(left), Shape.of(right)]
    for t in np.linspace(0.01, 0.99, 97):
        y = a[1] + t * (b[1] - a[1])
        x_on = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
        for x in (math.nextafter(x_on, 0.0), x_on, math.nextafter(x_on, 200.0)):
            found = [s.covers(x, y) for s in shapes]
            expected = [reference(left, x, y), reference(right, x, y)]
            assert found == expected, (x, y)
            assert any(found), (x, y)  # never in neither


# Coordinates on a 1e-7 grid (about 1 cm in degrees), as surveyed boundaries have: with
# vertices of wildly different magnitudes (1e-35 next to 0.4) GEOS's own double-double
# arithmetic runs out of bits, and then it is the exact answer here that is right.
coordinate = st.integers(-(10**7), 10**7).map(lambda n: n / 1e7)
polygon_points = st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=12)
probe = st.tuples(coordinate, coordinate)


@settings(max_examples=200, deadline=None)
@given(points=polygon_points, probes=st.lists(probe, max_size=20))
def test_agrees_with_shapely_on_random_polygons(points, probes):
    geom = shapely.make_valid(shapely.Polygon(points)) if len(set(points)) >= 3 else None
    if geom is None or geom.is_empty:
        return
    parts = shapely.get_parts(shapely.get_parts(geom))  # a collection may hold multipolygons
    polygons = [p for p in parts if p.geom_type == "Polygon" and p.area > 0]
    if not polygons:
        return
    geom = shapely.MultiPolygon(polygons)
    shape = Shape.of(geom)
    vertices = [xy for poly in shape.polygons for ring in poly for xy in ring]
    midpoints = [((ax + bx) / 2, (ay + by) / 2) for (ax, ay), (bx, by) in pairwise(vertices)]
    for x, y in [*probes, *vertices, *midpoints]:
        assert shape.covers(x, y) == reference(geom, x, y), (x, y)


def test_ring_side_on_horizontal_edge_and_vertex():
    ring = ((0.0, 0.0), (2.0, 0.0), (1.0, 1.0), (0.0, 0.0))
    assert ring_side(ring, 1.5, 0.0) == -1  # on the horizontal edge
    assert ring_side(ring, 1.0, 1.0) == -1  # the apex
    assert ring_side(ring, 1.0, 0.5) == 1
    assert ring_side(ring, 3.0, 0.0) == 0  # on the edge's line, past its end


def test_grid_candidates_hold_every_covering_polygon():
    rng = np.random.default_rng(5)
    corners = rng.uniform(0, 10, size=(300, 2))
    sizes = rng.uniform(0.05, 0.6, size=(300, 2))
    geoms = shapely.box(*corners.T, *(corners + sizes).T)
    grid = grid_build(geoms)
    for x, y in rng.uniform(-1, 11, size=(2000, 2)).tolist():
        expected = set(np.flatnonzero(shapely.intersects_xy(geoms, x, y)).tolist())
        assert expected <= set(grid.candidates(x, y))


def test_grid_keeps_huge_polygons_apart_and_skips_removed_ones():
    small = [shapely.box(i, 0, i + 1, 1) for i in range(10)]
    huge = shapely.box(-1000, -1000, 1000, 1000)
    geoms = np.array([*small, None, huge], dtype=object)
    grid = grid_build(geoms)
    assert grid.size == 1.0 and (2000 / grid.size) ** 2 > WIDE_CELLS  # cells as the small ones
    assert grid.wide == (11,)
    assert {2, 11} <= set(grid.candidates(2.5, 0.5)) <= {1, 2, 3, 11}
    assert grid.candidates(-500.0, -500.0) == [11]  # below and left of every small box
    assert 10 not in {i for key in grid.cells.values() for i in grid.ids[key[0] : key[1]]}


def test_empty_grid_has_no_candidates():
    grid = grid_build(np.array([None, None], dtype=object))
    assert grid.candidates(0.0, 0.0) == []


def test_slivers_do_not_make_the_grid_huge():
    """Mostly micro-polygons and one far away: the cell size has a floor, so keys stay small
    and a point still finds its polygon."""
    tiny = [shapely.box(i * 1e-12, 0, (i + 1) * 1e-12, 1e-12) for i in range(5)]
    far = shapely.box(50.0, 50.0, 50.5, 50.5)
    grid = grid_build(np.array([*tiny, far], dtype=object))
    assert grid.size >= 50.5 / (1 << 20)
    assert 2 in grid.candidates(2.5e-12, 0.5e-12)
    assert 5 in grid.candidates(50.25, 50.25)


def test_a_detailed_boundary_is_tested_by_shapely_with_the_same_answers():
    n = DETAILED_VERTICES + 50
    ring = [
        (math.cos(2 * math.pi * i / n) * (1 + 0.1 * math.sin(14 * math.pi * i / n)),
         math.sin(2 * math.pi * i / n))
        for i in range(n)
    ]  # fmt: skip
    geom = shapely.Polygon(ring)
    shape = Shape.of(geom)
    assert shape.detailed is not None and shape.polygons == ()
    rng = np.random.default_rng(9)
    for x, y in [*rng.uniform(-1.2, 1.2, size=(500, 2)).tolist(), *ring]:
        assert shape.covers(x, y) == reference(geom, x, y)
