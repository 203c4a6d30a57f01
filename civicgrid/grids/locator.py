"""`locate(lat, lng)`: which unit grid a point lies in, from an in-memory index.

Why in memory: a point query against ~100k quads takes microseconds, far less than any
database round trip, and needs no GDAL/PostGIS (DESIGN.md §4). Shapely parses the
boundaries; the query itself is pure Python (`pointindex` says why: shapely gives up the
GIL on every call, and a loaded threaded server pays for each hand-over).

Why it stays correct across processes: every boundary change bumps `GeoIndexState.version`
in the same transaction (services._bump_geo_version) and stamps the changed region with the
new `geo_version`. Each process remembers the version its index was built from and compares
it with the database in requests (the first locate after `request_started`) once the last
check is REFCACHE_REQUEST_RECHECK_SECONDS old (core/refcache.py says why not at every request)
and at most every LOCATE_RECHECK_SECONDS in long-running processes (workers, shells). When
it differs, only the regions stamped after the built version are reloaded; a full rebuild is
the fallback.
The version is read with the reference-data counters (core/refcache.py, one query for both)
when those were read after the check fell due, as they are by an API request's token check.

The index is an immutable snapshot swapped in one assignment, so readers never take a lock;
only rebuilds are serialised.
"""

import threading
import time
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from civicgrid.core.refcache import refversion_of, request_recheck_seconds

from .pointindex import CellGrid, Shape, grid_build

LOCATE_RECHECK_SECONDS = 2.0
GEO_VERSION = "grids.geoindex"  # its name among the reference-data counters
GEO_VERSION_SQL = "SELECT 'grids.geoindex', version FROM grids_geoindexstate WHERE id = 1"
# Above this share of changed units an incremental update is no cheaper than a full build.
_INCREMENTAL_MAX_SHARE = 0.2
_FIELDS = ("id", "code", "name", "path", "boundary_wkb", "is_active")
_monotonic = time.monotonic


@dataclass(frozen=True, slots=True)
class Location:
    """The unit grid containing a point. `path` is Region.path ("district/…/unit/")."""

    unit_id: int
    code: str
    name: str
    path: str

    def ancestor_codes(self) -> list[str]:
        return [c for c in self.path.split("/") if c][:-1]


@dataclass(frozen=True)
class _Snapshot:
    """One built index. Rows are (id, code, name, path), or None for a unit removed since the
    last full build (its geometry is None too, so the grid never returns it). Locations and
    shapes are made on first hit and cached: building 100k of them up front would double
    rebuild time."""

    version: int
    grid: CellGrid
    geoms: np.ndarray
    rows: list[tuple | None]
    locs: list[Location | None]  # lazily filled cache, parallel to rows
    pos: dict[int, int]  # unit id -> position
    size: int  # live units
    shapes: list[Shape | None] = field(default_factory=list)  # lazily filled, parallel to rows

    def __post_init__(self) -> None:
        self.shapes.extend([None] * (len(self.rows) - len(self.shapes)))

    def location(self, i: int) -> Location:
        row = self.rows[i]
        loc = self.locs[i] = Location(unit_id=row[0], code=row[1], name=row[2], path=row[3])
        return loc

    def hits(self, x: float, y: float) -> list[int]:
        """Units covering the point (inside or on the boundary)."""
        shapes = self.shapes
        found = []
        for i in self.grid.candidates(x, y):
            shape = shapes[i] or self.shape(i)
            if shape.covers(x, y):
                found.append(i)
        return found

    def shape(self, i: int) -> Shape:
        shape = self.shapes[i] = Shape.of(self.geoms[i])
        return shape


@dataclass
class _Index:
    snap: _Snapshot | None = None
    check_at: float = 0.0  # monotonic time of the next version check; 0 = check now
    checked_at: float = float("-inf")  # monotonic time of the last check
    changed_here: bool = False  # a boundary changed in this process since the last request
    due_since: float = 0.0  # monotonic time the check was last marked needed
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_build: dict = field(default_factory=dict)


_INDEX = _Index()


def locate(lat: float, lng: float) -> Location | None:
    """The active unit grid containing (lat, lng) in WGS84, or None outside the managed area.

    A point on an edge shared by several units resolves to the smallest code, so the answer
    never depends on tree order.
    """
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0):  # also false for NaN
        raise ValueError(
            _("坐标无效:纬度 %(lat)s,经度 %(lng)s(纬度±90,经度±180)") % {"lat": lat, "lng": lng}
        )
    index = _INDEX
    if index.check_at <= _monotonic():
        ensure_fresh()
    snap = index.snap
    hits = snap.hits(lng, lat)
    if len(hits) == 1:
        i = hits[0]
    elif not hits:
        return None
    else:
        i = min(hits, key=lambda j: snap.rows[j][1])
    return snap.locs[i] or snap.location(i)


def ensure_fresh() -> None:
    """Compare the built version with the database (one tiny query, shared with the
    reference-data counters when they were read after the check fell due); rebuild if it
    moved."""
    index = _INDEX
    snap = index.snap
    due = index.check_at or index.due_since
    if snap is None or snap.version != refversion_of(GEO_VERSION, read_since=due):
        with index.lock:
            version = _db_version()
            snap = index.snap
            if snap is None or snap.version != version:
                index.snap = _rebuild(snap, version)
    recheck = getattr(settings, "LOCATE_RECHECK_SECONDS", LOCATE_RECHECK_SECONDS)
    index.checked_at = now = _monotonic()
    index.check_at = now + recheck


def mark_check_needed(**kwargs) -> None:
    """`request_started` receiver: the next locate in this process re-reads the version when
    the last check is REFCACHE_REQUEST_RECHECK_SECONDS old or more."""
    now = _monotonic()
    if _INDEX.changed_here or now >= _INDEX.checked_at + request_recheck_seconds():
        _INDEX.check_at, _INDEX.due_since, _INDEX.changed_here = 0.0, now, False


def check_now() -> None:
    """This process changed a boundary: its next locate re-reads the version, whenever the
    last check was, and so does its next request (the change may roll back, and an index
    built inside its transaction must not outlive it). Other processes see the change within
    REFCACHE_REQUEST_RECHECK_SECONDS."""
    _INDEX.check_at, _INDEX.due_since, _INDEX.changed_here = 0.0, _monotonic(), True


def locator_reset() -> None:
    """Drop the in-memory index (tests, or after restoring a database)."""
    with _INDEX.lock:
        _INDEX.snap = None
        _INDEX.check_at, _INDEX.due_since = 0.0, _monotonic()
        _INDEX.checked_at, _INDEX.changed_here = float("-inf"), False
        _INDEX.last_build = {}


def index_info() -> dict:
    """Version and size of this process's index and how the last build went (health, bench)."""
    snap = _INDEX.snap
    if snap is None:
        return {"built": False}
    return {"built": True, "version": snap.version, "units": snap.size, **_INDEX.last_build}


# --- building -------------------------------------------------------------------------------


def _db_version() -> int:
    """The version as it is now (raw SQL): the authoritative read before a rebuild."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM grids_geoindexstate WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0


def _unit_rows(*, changed_after: int | None = None) -> list[tuple]:
    """(id, code, name, path, wkb, is_active) rows: every live unit, or every unit stamped
    after `changed_after`. Fetched without the ORM's per-row converters (a third of a 100k-row
    build); the SQL is still the ORM's own."""
    from django.db import connections

    from .choices import Level
    from .models import Region

    if changed_after is None:
        qs = Region.objects.filter(level=Level.UNIT, is_active=True, boundary_wkb__isnull=False)
    else:
        # Filter on the geo_version index alone; a planner choosing the level index would
        # scan every unit. The few non-unit rows are dropped below.
        qs = Region.objects.filter(geo_version__gt=changed_after)
    qs = qs.order_by().values_list(*_FIELDS, "level")
    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return [r[:6] for r in cursor.fetchall() if r[6] == Level.UNIT]


def _parse(rows: list[tuple]) -> np.ndarray:
    """Bulk-parse the WKB column in one call into GEOS."""
    return shapely.from_wkb(np.array([bytes(r[4]) for r in rows], dtype=object))


def _rebuild(snap: _Snapshot | None, version: int) -> _Snapshot:
    started = _monotonic()
    new = None
    if snap is not None and version > snap.version:
        new = _incremental(snap, version)
    kind = "incremental" if new is not None else "full"
    if new is None:
        new = _full(version)
    _INDEX.last_build = {"kind": kind, "seconds": round(_monotonic() - started, 4)}
    return new


def _full(version: int) -> _Snapshot:
    rows = _unit_rows()
    geoms = _parse(rows)
    keys = [r[:4] for r in rows]
    pos = {r[0]: i for i, r in enumerate(rows)}
    return _Snapshot(version, grid_build(geoms), geoms, keys, [None] * len(rows), pos,
                     len(rows))  # fmt: skip


def _incremental(snap: _Snapshot, version: int) -> _Snapshot | None:
    """Replace only the units stamped after the built version; None when a full build is due."""
    changed = _unit_rows(changed_after=snap.version)
    if len(changed) > max(100, _INCREMENTAL_MAX_SHARE * snap.size):
        return None
    live = [r for r in changed if r[5] and r[4] is not None]
    new_geoms = _parse(live)
    geoms, rows, locs, pos = snap.geoms.copy(), list(snap.rows), list(snap.locs), dict(snap.pos)
    shapes, size = list(snap.shapes), snap.size
    for r in changed:
        i = pos.get(r[0])
        if i is not None and rows[i] is not None:
            geoms[i] = rows[i] = locs[i] = shapes[i] = None
            size -= 1
    appended: list[int] = []  # indices into new_geoms of units not in the index yet
    for j, r in enumerate(live):
        i = pos.get(r[0])
        if i is None:
            pos[r[0]] = len(rows)
            rows.append(r[:4])
            locs.append(None)
            appended.append(j)
        else:
            geoms[i], rows[i] = new_geoms[j], r[:4]
        size += 1
    if appended:
        geoms = np.concatenate([geoms, new_geoms[appended]])
    new = _Snapshot(version, grid_build(geoms), geoms, rows, locs, pos, size, shapes)
    return new if size == _live_unit_count() else None


def _live_unit_count() -> int:
    """Guards against rows removed without a version stamp (e.g. a raw delete)."""
    from .choices import Level
    from .models import Region

    return Region.objects.filter(
        level=Level.UNIT, is_active=True, boundary_wkb__isnull=False
    ).count()
