"""Benchmark for `locate()` (issue 2), every figure measured side by side in one run.

    .venv/bin/python bench/locate_bench.py [--n 100000] [--queries 50000]

(a) bare shapely `STRtree.query(Point, predicate="intersects")` rate on random points, over
    the very geometries locate() indexes (locate() itself queries a pure-Python grid:
    civicgrid/grids/pointindex.py says why),
(b) `locate()` on the same points (target: at least 50 % of (a)), and whether its answers
    agree with (a)'s (smallest code on ties),
(c) PostGIS `ST_Contains` with a GiST index on the same polygons, one query per point,
    when PostgreSQL at 127.0.0.1:5432 has (or can create) the postgis extension,
(d) index rebuild after one boundary change: full and incremental (target: under 1 s).

The unit grids are a jittered lattice of quads around 33.50 N, 119.14 E, loaded straight into
Region rows of a throwaway SQLite database (a benchmark, not application data).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
CENTER = (119.14, 33.50)
CELL_DEG = 0.0005  # about 46 m × 55 m per unit grid
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_TABLE = "bench_locate_units"
ROUNDS = 5


def make_quads(n: int, seed: int) -> np.ndarray:
    """About n non-overlapping quads tiling a square: a lattice whose inner vertices are
    jittered by up to 30 % of a cell, shared by neighbours so the quads still tile."""
    rng = np.random.default_rng(seed)
    nx = int(np.ceil(np.sqrt(n)))
    ny = int(np.ceil(n / nx))
    xs = CENTER[0] + (np.arange(nx + 1) - nx / 2) * CELL_DEG
    ys = CENTER[1] + (np.arange(ny + 1) - ny / 2) * CELL_DEG
    vx, vy = np.meshgrid(xs, ys)  # (ny+1, nx+1)
    jitter = rng.uniform(-0.3, 0.3, size=(2, ny - 1, nx - 1)) * CELL_DEG
    vx[1:-1, 1:-1] += jitter[0]
    vy[1:-1, 1:-1] += jitter[1]
    corners = [(0, 0), (0, 1), (1, 1), (1, 0), (0, 0)]  # (dy, dx), counter-clockwise
    ring = np.stack(
        [
            np.stack([vx[dy : dy + ny, dx : dx + nx], vy[dy : dy + ny, dx : dx + nx]], -1)
            for dy, dx in corners
        ],
        axis=2,
    )  # (ny, nx, 5, 2)
    quads = shapely.polygons(ring.reshape(-1, 5, 2))[:n]
    assert shapely.is_valid(quads).all()
    return quads


def random_points(quads: np.ndarray, count: int, seed: int) -> list[tuple[float, float]]:
    """(lat, lng) pairs over the lattice's bounding box widened by 5 %: a few land outside."""
    rng = np.random.default_rng(seed + 1)
    minx, miny, maxx, maxy = shapely.total_bounds(quads)
    padx, pady = (maxx - minx) * 0.05, (maxy - miny) * 0.05
    lng = rng.uniform(minx - padx, maxx + padx, count)
    lat = rng.uniform(miny - pady, maxy + pady, count)
    return list(zip(lat.tolist(), lng.tolist(), strict=True))


def setup_django(db_path: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ["DEBUG"] = "0"  # DEBUG would keep every query in memory
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def load_regions(quads: np.ndarray) -> list[bytes]:
    from django.db import transaction

    from civicgrid.grids.models import GeoIndexState, Region

    wkbs = shapely.to_wkb(quads).tolist()
    bounds = shapely.bounds(quads)
    rows = (
        Region(
            name=f"单元{i}", level="unit", code=f"9{i:013d}", path=f"bench/9{i:013d}/",
            boundary_wkb=wkb, area_m2=0.0, geo_version=1,
            min_lng=b[0], min_lat=b[1], max_lng=b[2], max_lat=b[3],
        )
        for i, (wkb, b) in enumerate(zip(wkbs, bounds.tolist(), strict=True))
    )  # fmt: skip
    with transaction.atomic():
        Region.objects.bulk_create(rows, batch_size=2000)
        GeoIndexState.objects.update_or_create(pk=1, defaults={"version": 1})
    return wkbs


def rate(fn, points, rounds: int = 3) -> float:
    """Median queries per second over `rounds` passes."""
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn(points)
        rates.append(len(points) / (time.perf_counter() - started))
    return statistics.median(rates)


def bare_loop(tree: shapely.STRtree):
    point, query = shapely.Point, tree.query

    def run(points):
        for lat, lng in points:
            query(point(lng, lat), predicate="intersects")

    return run


def locate_loop(points):
    from civicgrid.grids.locator import locate

    for lat, lng in points:
        locate(lat, lng)


def check_agreement(tree, locs: list, points) -> int:
    """Points where locate() and the bare tree (smallest code on ties) disagree."""
    from civicgrid.grids.locator import locate

    wrong = 0
    for lat, lng in points:
        hits = tree.query(shapely.Point(lng, lat), predicate="intersects")
        expected = min((locs[i].code for i in hits), default=None)
        found = locate(lat, lng)
        wrong += (found.code if found else None) != expected
    return wrong


def measure_rebuilds() -> dict[str, float]:
    from django.db import transaction
    from django.db.models import F

    from civicgrid.grids import locator
    from civicgrid.grids.models import GeoIndexState, Region

    out = {}
    locator.locator_reset()
    started = time.perf_counter()
    locator.ensure_fresh()
    out["full rebuild (load + parse + grid)"] = time.perf_counter() - started
    started = time.perf_counter()
    locator.ensure_fresh()
    out["version check, unchanged (1 query)"] = time.perf_counter() - started

    # One boundary change as services.region_set_boundary writes it: shrink one quad.
    unit = Region.objects.filter(level="unit").order_by("code")[Region.objects.count() // 2]
    smaller = shapely.affinity.scale(unit.geometry, 0.9, 0.9)
    with transaction.atomic():
        GeoIndexState.objects.filter(pk=1).update(version=F("version") + 1)
        version = GeoIndexState.objects.get(pk=1).version
        Region.objects.filter(pk=unit.pk).update(
            boundary_wkb=shapely.to_wkb(smaller), geo_version=version
        )
    started = time.perf_counter()
    locator.ensure_fresh()
    out["incremental rebuild after 1 change"] = time.perf_counter() - started
    info = locator.index_info()
    assert info["kind"] == "incremental" and info["version"] == version, info
    lat, lng = smaller.representative_point().y, smaller.representative_point().x
    assert locator.locate(lat, lng).unit_id == unit.pk
    return out


def postgis_rate(quads: np.ndarray, codes: list[str], points) -> tuple[float | None, str]:
    try:
        import psycopg
    except ImportError:
        return None, "psycopg not installed"
    try:
        conn = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        return None, f"PostgreSQL unreachable: {exc}".splitlines()[0]
    with conn:
        had = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.Error as exc:
            return None, f"postgis extension unavailable: {exc}".splitlines()[0]
        try:
            return _postgis_queries(conn, quads, codes, points), "ok"
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {PG_TABLE}")
            if not had:
                conn.execute("DROP EXTENSION IF EXISTS postgis")


def _postgis_queries(conn, quads, codes, points) -> float:
    conn.execute(f"DROP TABLE IF EXISTS {PG_TABLE}")
    conn.execute(f"CREATE TABLE {PG_TABLE} (code text PRIMARY KEY, geom geometry(Polygon, 4326))")
    ewkb = shapely.to_wkb(shapely.set_srid(quads, 4326), hex=True, include_srid=True).tolist()
    with conn.cursor().copy(f"COPY {PG_TABLE} (code, geom) FROM STDIN") as copy:
        for code, geom in zip(codes, ewkb, strict=True):
            copy.write_row((code, geom))
    conn.execute(f"CREATE INDEX ON {PG_TABLE} USING gist (geom)")
    conn.execute(f"ANALYZE {PG_TABLE}")
    sql = (
        f"SELECT code FROM {PG_TABLE} "
        "WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code LIMIT 1"
    )
    cur = conn.cursor()

    def run(pts):
        for lat, lng in pts:
            cur.execute(sql, (lng, lat), prepare=True)
            cur.fetchone()

    run(points[:200])  # warm the plan cache and the index pages
    return rate(run, points, rounds=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of unit grids")
    parser.add_argument("--queries", type=int, default=50_000, help="random points per pass")
    parser.add_argument("--pg-queries", type=int, default=10_000, help="points sent to PostGIS")
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    t0 = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="locate-bench-") as tmp:
        setup_django(Path(tmp) / "bench.sqlite3")
        quads = make_quads(args.n, args.seed)
        codes = [f"9{i:013d}" for i in range(len(quads))]
        load_regions(quads)
        points = random_points(quads, args.queries, args.seed)
        print(f"{len(quads):,} unit grids loaded in {time.perf_counter() - t0:.1f} s", flush=True)
        rows = run_all(quads, codes, points, args.pg_queries)
    print_table(rows, len(quads), args.queries, time.perf_counter() - t0)


def run_all(quads, codes, points, pg_queries: int) -> list[tuple[str, str, str]]:
    from civicgrid.grids import locator

    rebuild = measure_rebuilds()  # also leaves a warm index for the rate comparison
    # Shapely's own tree over the very geometries locate() indexes (it no longer queries a
    # tree: civicgrid/grids/pointindex.py says why): the floor to compare with, and the
    # reference answer for the agreement check.
    tree = shapely.STRtree(locator._INDEX.snap.geoms)
    bare_run = bare_loop(tree)
    bare_run(points[:5000])  # warm both paths before timing
    locate_loop(points[:5000])
    bare_rates, locate_rates = [], []
    for _ in range(ROUNDS):  # interleaved, so drift in machine load hits both sides alike
        bare_rates.append(rate(bare_run, points, rounds=1))
        locate_rates.append(rate(locate_loop, points, rounds=1))
    bare, loc = statistics.median(bare_rates), statistics.median(locate_rates)
    ratios = sorted(b / a for a, b in zip(bare_rates, locate_rates, strict=True))
    wrong = check_agreement(tree, locator._INDEX.snap.locs, points[:5000])
    inside = sum(locator.locate(lat, lng) is not None for lat, lng in points[:5000]) / 50
    pg, pg_note = postgis_rate(quads, codes, points[:pg_queries])
    rows = [
        ("(a) bare STRtree.query(Point, intersects)", f"{bare:,.0f} /s", ""),
        ("(b) locate()", f"{loc:,.0f} /s", f"b/a = {loc / bare:.2f} (target ≥ 0.50)"),
        ("    b/a per round, min … max", f"{ratios[0]:.2f} … {ratios[-1]:.2f}", f"{ROUNDS} rounds"),
        ("    locate() agrees with bare tree", f"{5000 - wrong}/5000", f"{inside:.0f} % inside"),
    ]
    if pg is None:
        rows.append(("(c) PostGIS ST_Contains + GiST", "skipped", pg_note))
    else:
        rows.append(("(c) PostGIS ST_Contains + GiST", f"{pg:,.0f} /s",
                     f"locate/PostGIS = {loc / pg:.0f}×"))  # fmt: skip
    for name, seconds in rebuild.items():
        target = "target < 1 s" if "rebuild" in name else ""
        rows.append((f"(d) {name}", f"{seconds * 1000:,.1f} ms", target))
    return rows


def print_table(rows, n: int, queries: int, total: float) -> None:
    print(f"\nlocate benchmark: {n:,} unit grids, {queries:,} random points per pass, "
          f"python {sys.version.split()[0]}, shapely {shapely.__version__}, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure'.ljust(width)} | {'result':>14} | note |")
    print(f"|{'-' * (width + 2)}|{'-' * 16}|------|")
    for name, value, note in rows:
        print(f"| {name.ljust(width)} | {value:>14} | {note} |")
    print(f"\ntotal run time {total:.0f} s")


if __name__ == "__main__":
    main()
