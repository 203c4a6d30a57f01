"""Which polygons cover a point, in pure Python: the query side of `locator.locate`.

Why not shapely's STRtree at query time: shapely gives up the GIL for every call, however
short (a `Point` and an `STRtree.query` are at least two releases). In a threaded server at full
load each release hands the interpreter to another thread, and the caller queues to get it
back: context switches, a cold cache and latency for a query that itself takes
microseconds. A synthetic test on the session machine put each release at ~15 µs of extra
CPU under contention; on the case intake as a whole the gain was within the host's noise
(docs/BENCHMARKS.md, twelfth session). Here a query is a dict lookup and some float
arithmetic that never leaves the interpreter, and in the locate bench it answers 1.6-1.9
times as many points per second as the bare STRtree. Shapely still parses boundaries and
gives their bounds and coordinates, once per build and once per unit's first hit, and it
tests the rare boundary with hundreds of vertices (`DETAILED_VERTICES`), where a Python loop
over the edges would cost more than the hand-over.

The index is a uniform grid of square cells about the size of a typical unit; each cell
lists the polygons whose bounding box touches it. A unit spanning more than `WIDE_CELLS`
cells is kept apart and tested for every point, so one huge polygon cannot blow up the map.

Exactness matches shapely's `intersects`: a point on a polygon's boundary (edge or vertex,
outer ring or hole) counts as covered. Which side of an edge a point lies on is decided by an
orientation test that is redone in exact rational arithmetic whenever the float result is
too close to zero to trust, so a point next to an edge shared by two units is in exactly one
of them (and on the edge, in both), as GEOS's robust predicates decide. (With vertices of
wildly different magnitudes, 1e-35 next to 0.4, GEOS's double-double runs out of bits and
the two can differ; the exact answer is the one here. Surveyed boundaries never do that.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import shapely

WIDE_CELLS = 1024  # a polygon whose box spans more cells than this is tested for every point
# Above this many vertices the plain-Python test costs more than shapely's call and the GIL
# hand-over together (~30 µs for 500 vertices against ~4 µs + ~15 µs): such a boundary is
# tested by shapely. Unit grids drawn by hand have tens of vertices.
DETAILED_VERTICES = 256
_TRUST = 1e-12  # |det| below this share of its terms' size is recomputed exactly

Ring = tuple[tuple[float, float], ...]
Rings = tuple[tuple[Ring, ...], ...]  # polygons, each its outer ring and then its holes


@dataclass(frozen=True, slots=True)
class CellGrid:
    """Candidate polygons by cell: `cells` maps a cell's key to the slice of `ids` listing
    the polygons whose bounding box touches it; a removed polygon (None) is in no cell."""

    x0: float
    y0: float
    size: float
    cells: dict[int, tuple[int, int]]
    ids: list[int]
    wide: tuple[int, ...]

    def candidates(self, x: float, y: float) -> list[int]:
        """Polygons whose bounding box may contain (x, y): every one that does, and some
        that do not (`Shape.covers` checks the box first)."""
        col = math.floor((x - self.x0) / self.size)
        row = math.floor((y - self.y0) / self.size)
        if col < 0 or row < 0:  # left of or below every box
            return list(self.wide)
        start, end = self.cells.get(col * _ROWS + row, (0, 0))
        return self.ids[start:end] + list(self.wide) if self.wide else self.ids[start:end]


_MAX_SIDE = 1 << 20
_ROWS = 1 << 32  # a cell's key is col * _ROWS + row; rows never come near this


def grid_build(geoms: np.ndarray) -> CellGrid:
    """The grid over `geoms` (an array of polygons, None for a removed one). Vectorised: a
    loop over 100k units in Python would double the index's rebuild time."""
    b = shapely.bounds(geoms)
    live = np.flatnonzero(~np.isnan(b[:, 0]))
    if not len(live):
        return CellGrid(0.0, 0.0, 1.0, {}, [], ())
    lb = b[live]
    x0, y0 = float(lb[:, 0].min()), float(lb[:, 1].min())
    spans = np.maximum(lb[:, 2] - lb[:, 0], lb[:, 3] - lb[:, 1])
    extent = max(float(lb[:, 2].max()) - x0, float(lb[:, 3].max()) - y0)
    # About one typical unit per cell, but never more than _MAX_SIDE cells a side (slivers).
    size = max(float(np.median(spans)), extent / _MAX_SIDE) or 1e-9
    c0, c1 = (np.floor((lb[:, k] - x0) / size).astype(np.int64) for k in (0, 2))
    r0, r1 = (np.floor((lb[:, k] - y0) / size).astype(np.int64) for k in (1, 3))
    height, count = r1 - r0 + 1, (c1 - c0 + 1) * (r1 - r0 + 1)
    wide = count > WIDE_CELLS
    keep = ~wide
    owner = np.repeat(np.flatnonzero(keep), count[keep])  # one entry per (polygon, cell)
    first = np.repeat(np.cumsum(count[keep]) - count[keep], count[keep])
    k = np.arange(len(owner)) - first  # the cell's number inside its polygon's box
    keys = (c0[owner] + k // height[owner]) * _ROWS + r0[owner] + k % height[owner]
    order = np.argsort(keys, kind="stable")
    keys, ids = keys[order], live[owner[order]]
    unique, starts = np.unique(keys, return_index=True)
    ends = np.append(starts[1:], len(keys))
    slices = zip(starts.tolist(), ends.tolist(), strict=True)
    cells = dict(zip(unique.tolist(), slices, strict=True))
    return CellGrid(x0, y0, size, cells, ids.tolist(), tuple(live[wide].tolist()))


@dataclass(frozen=True, slots=True)
class Shape:
    """A polygon or multipolygon as plain floats: its bounding box and its rings."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    polygons: Rings
    detailed: Any = None  # the geometry of a boundary with many vertices

    @classmethod
    def of(cls, geom) -> Shape:
        minx, miny, maxx, maxy = geom.bounds
        if shapely.get_num_coordinates(geom) > DETAILED_VERTICES:
            return cls(minx, miny, maxx, maxy, (), geom)  # not prepared: shared by threads
        polygons = geom.geoms if hasattr(geom, "geoms") else [geom]
        out = []
        for polygon in polygons:
            if polygon.geom_type != "Polygon" or polygon.is_empty:
                continue  # boundaries are validated as (multi)polygons; nothing else covers
            rings = [polygon.exterior, *polygon.interiors]
            out.append(tuple(tuple(map(tuple, ring.coords)) for ring in rings))
        return cls(minx, miny, maxx, maxy, tuple(out))

    def covers(self, x: float, y: float) -> bool:
        """Whether the point lies inside or on the boundary."""
        if not (self.minx <= x <= self.maxx and self.miny <= y <= self.maxy):
            return False
        if self.detailed is not None:
            return bool(shapely.intersects_xy(self.detailed, x, y))
        return covers(self.polygons, x, y)


IN, OUT, ON = 1, 0, -1


def covers(polygons: Rings, x: float, y: float) -> bool:
    """Whether the point lies in one of the polygons or on its boundary."""
    for rings in polygons:
        side = ring_side(rings[0], x, y)
        if side == ON:
            return True
        if side == OUT:
            continue
        for hole in rings[1:]:
            inner = ring_side(hole, x, y)
            if inner == ON:
                return True
            if inner == IN:
                break
        else:
            return True
    return False


def ring_side(ring: Ring, x: float, y: float) -> int:
    """IN, OUT or ON for a closed ring (last point = first), by counting the crossings of a
    ray from the point towards +x (even-odd)."""
    inside = False
    ax, ay = ring[0]
    for bx, by in ring[1:]:
        if (ay > y) != (by > y):  # the edge crosses the point's horizontal line
            side = _orientation(ax, ay, bx, by, x, y)
            if side == 0:
                return ON
            if side > 0:
                inside = not inside
        elif y == by and (x == bx or (ay == by and min(ax, bx) <= x <= max(ax, bx))):
            return ON  # a vertex, or on a horizontal edge
        ax, ay = bx, by
    return IN if inside else OUT


def _orientation(ax: float, ay: float, bx: float, by: float, x: float, y: float) -> int:
    """+1 if the point is left of the edge taken upwards (the +x ray crosses it), -1 if
    right, 0 if on its line. The edge is always taken from its lower end, so two polygons
    sharing an edge compute the very same numbers."""
    if ay > by:
        ax, ay, bx, by = bx, by, ax, ay
    left, right = (bx - ax) * (y - ay), (x - ax) * (by - ay)
    det = left - right
    if abs(det) > _TRUST * (abs(left) + abs(right)):
        return 1 if det > 0 else -1
    exact = (Fraction(bx) - Fraction(ax)) * (Fraction(y) - Fraction(ay)) - (
        Fraction(x) - Fraction(ax)
    ) * (Fraction(by) - Fraction(ay))
    return (exact > 0) - (exact < 0)
