"""Centre queue and department workbench API calls with N cases in the database.

    .venv/bin/python bench/queue_bench.py --rows 1000000
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench_queue \
        .venv/bin/python bench/queue_bench.py --rows 1000000

Rows are bulk-generated straight into the bench database (bulk_create in batches, spread
over the bench tree's unit grids, every status, two years of dates; the first --generate rows
in Python, the rest by copying those in SQL) — the intake path is the intake benchmark's
business. --reuse keeps a previous run's rows (migrating them, unless --no-migrate). Then
each page's API call (first page, limit 50, plus the counts call) and each workbench HTML
page (first page of a tab, with the tab badges) is made --calls times in-process through
the Django test client as the operator / the handler; prints p50/p95 in ms, the queries per
call and how many of them read cases. --only SUBSTRING measures the matching URLs only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.casebench.settings"

PAGES = [
    ("operator", "/api/v1/cases/queues/centre"),
    ("operator", "/api/v1/cases/queues/centre/new?limit=50"),
    ("operator", "/api/v1/cases/queues/centre/overdue?limit=50"),
    ("operator", "/api/v1/cases/queues/centre/unlocated?limit=50"),
    ("operator", "/api/v1/cases/queues/centre/duplicates?limit=50"),
    ("operator", "/api/v1/cases?limit=50"),
    ("handler", "/api/v1/cases/queues/department"),
    ("handler", "/api/v1/cases/queues/department/to_sign?limit=50"),
    ("handler", "/api/v1/cases/queues/department/in_hand?limit=50"),
    ("handler", "/api/v1/cases/queues/department/handled?limit=50"),
    ("operator", "/cases/centre/?tab=new"),
    ("operator", "/cases/centre/?tab=overdue"),
    ("operator", "/cases/centre/?tab=unlocated"),
    ("handler", "/cases/dept/?tab=to_sign"),
    ("handler", "/cases/dept/?tab=handled"),
]


def setup_db(reuse: bool, migrate: bool = True):
    """A fresh bench database, or with --reuse the one a previous run generated (migrated
    again, so new indexes are measured without regenerating a million rows)."""
    if reuse:
        import django
        from django.core.management import call_command

        django.setup()
        if migrate:
            call_command("migrate", verbosity=0)
    else:
        from intake_bench import prepare  # same fresh database + tree + category

        prepare()
    from django.contrib.auth import get_user_model

    from civicgrid.accounts.choices import Role
    from civicgrid.cases.models import Category
    from civicgrid.core.testing.factories import user_with_role
    from civicgrid.grids.models import Department, Region

    dept = Department.objects.get(code="cg")
    street = Region.objects.get(code="320803001")
    district = Region.objects.get(code="320803")
    User = get_user_model()
    users = {
        "operator": User.objects.filter(username="bench_op").first()
        or user_with_role(Role.OPERATOR, street, username="bench_op"),
        "handler": User.objects.filter(username="bench_h").first()
        or user_with_role(Role.HANDLER, district, department=dept, username="bench_h"),
    }
    return users, Category.objects.get(code="C0101"), dept


def generate(rows: int, category, dept, batch: int = 20_000, first: int = 0) -> float:
    from django.db import transaction

    from civicgrid.cases.choices import Status
    from civicgrid.cases.models import Case
    from civicgrid.grids.models import Region

    units = list(Region.objects.filter(level="unit", path__startswith="320803/320803001/"))
    statuses = list(Status.values)
    rng = random.Random(3)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    for start in range(first, first + rows, batch):
        objs = []
        for i in range(start, min(first + rows, start + batch)):
            status, unit = rng.choice(statuses), units[i % len(units)]
            created = now - dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
            handling = status in (Status.DISPATCHED, Status.SIGNED)
            objs.append(
                Case(
                    number=f"B{i:012d}",
                    source="resident",
                    category=category,
                    title="井盖没了",
                    unit=unit,
                    path=unit.path,
                    located=True,
                    status=status,
                    department=dept if handling or status == Status.HANDLED else None,
                    step="handle" if handling else "",
                    step_deadline=created + dt.timedelta(days=3) if handling else None,
                    step_warn_at=created + dt.timedelta(days=2) if handling else None,
                    duplicate_suspected=status == Status.REPORTED and i % 7 == 0,
                    created_at=created,
                    updated_at=created,
                )  # fmt: skip
            )
        with transaction.atomic():  # one transaction per 20k rows: SQLite commits are costly
            Case.objects.bulk_create(objs, batch_size=2000)
    return time.perf_counter() - started


def fill_by_copy(target: int) -> float:
    """Double the generated rows in SQL (new numbers, same mix of statuses, places, dates and
    deadlines) until there are `target`: a million rows through bulk_create took longer than
    a benchmark run should on a shared two-core box."""
    from django.db import connection, transaction

    from civicgrid.cases.models import Case

    cols = [f.column for f in Case._meta.concrete_fields if f.column not in ("id", "number")]
    names = ", ".join(f'"{c}"' for c in cols)
    started = time.perf_counter()
    have = Case.objects.count()
    while have < target:
        n = min(have, target - have)
        sql = (
            f"INSERT INTO cases_case (number, {names}) SELECT {_number_sql(connection.vendor)}, "
            f"{names} FROM cases_case WHERE id IN (SELECT id FROM cases_case ORDER BY id LIMIT %s)"
        )
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [have, n])
        have += n
    return time.perf_counter() - started


def _number_sql(vendor: str) -> str:
    """'B' + 12 digits of (row's place in the table + rows already there): unique."""
    if vendor == "postgresql":
        return "'B' || lpad((id - 1 + %s)::text, 12, '0')"
    return "'B' || printf('%%012d', id - 1 + %s)"


def measure(users, calls: int, only: str = "") -> list[tuple[str, float, float, int, int]]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS.append("testserver")
    # HTML pages without collectstatic's manifest (static URLs are not what is measured)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    out = []
    for who, url in PAGES:
        if only not in url:
            continue
        client = clients[who]
        assert client.get(url).status_code == 200, url  # warm
        times = []
        for _ in range(calls):
            t = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                res = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert res.status_code == 200, res.content[:200]
        p95 = statistics.quantiles(times, n=20)[-1]
        cases = sum('"cases_case"' in q["sql"] for q in ctx.captured_queries)
        out.append((url, statistics.median(times), p95, len(ctx.captured_queries), cases))
    return out


def compare_counts(users, calls: int) -> list[tuple[str, float, float]]:
    """Exact vs capped counting of the same querysets, alternated call by call in one run
    (a shared box's load hits both alike): each bucket's pager count (COUNT(*) vs COUNT
    over LIMIT 1001) and the tabs' counts (one aggregate with FILTER per bucket vs one
    query of LIMIT 100 subqueries). p50 ms of each."""
    from django.db.models import Count
    from django.utils import timezone

    from civicgrid.accounts.scope import scope_of
    from civicgrid.cases import selectors
    from civicgrid.cases.models import Case

    op, h = users["operator"], users["handler"]
    now = timezone.now()
    centre = Case.objects.for_scope(scope_of(op))
    dept = selectors._department_cases(h)
    jobs = []
    for name, qs, buckets in (
        ("centre", centre, selectors.centre_buckets(now)),
        ("department", dept, selectors.department_buckets(now)),
    ):
        exact = {k: Count("pk", filter=q) for k, q in buckets.items()}
        jobs.append(
            (
                f"{name} tab counts",
                lambda qs=qs, exact=exact: qs.aggregate(**exact),
                lambda qs=qs, b=buckets: selectors.capped_counts(qs=qs, buckets=b, cap=99),
            )
        )
        for bucket, q in buckets.items():
            one = qs.filter(q)
            jobs.append(
                (
                    f"{name} {bucket} pager count",
                    lambda one=one: one.count(),
                    lambda one=one: selectors.capped_count(qs=one, cap=1000),
                )
            )
    out = []
    for label, exact_fn, capped_fn in jobs:
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(calls):
            for fn, into in ((exact_fn, times[0]), (capped_fn, times[1])):
                t = time.perf_counter()
                fn()
                into.append((time.perf_counter() - t) * 1000)
        out.append((label, statistics.median(times[0]), statistics.median(times[1])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--reuse", action="store_true", help="keep the generated cases")
    ap.add_argument(
        "--generate", type=int, default=100_000, help="rows made in Python; the rest copied"
    )
    ap.add_argument("--no-migrate", action="store_true", help="with --reuse: measure as it is")
    ap.add_argument("--only", default="", help="measure only URLs containing this")
    ap.add_argument(
        "--compare-counts", action="store_true", help="also exact vs capped counts, alternated"
    )
    args = ap.parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    users, category, dept = setup_db(args.reuse, migrate=not args.no_migrate)
    from civicgrid.cases.models import Case

    have = Case.objects.count() if args.reuse else 0
    made = min(args.rows, max(have, args.generate))
    took = generate(made - have, category, dept, first=have) if have < made else 0.0
    took += fill_by_copy(args.rows)
    with connection.cursor() as cur:  # fresh planner statistics on both engines (PostgreSQL's
        cur.execute("ANALYZE")  # autovacuum would; SQLite needs ANALYZE / PRAGMA optimize)
    if connection.vendor == "sqlite":  # and what run_scheduler adds (empty partial indexes)
        from django.utils import timezone

        from civicgrid.cases.scheduler import optimize_sqlite

        optimize_sqlite(timezone.now())
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"engine={engine} rows={args.rows:,} generated in {took:.0f}s; {args.calls} calls/page")
    print(f"{'page':58} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'of cases':>8}")
    for url, p50, p95, queries, cases in measure(users, args.calls, args.only):
        print(f"{url:58} {p50:8.1f} {p95:8.1f} {queries:8d} {cases:8d}", flush=True)
    if args.compare_counts:
        print(f"\n{'count (p50 ms, alternated)':58} {'exact':>8} {'capped':>8} {'ratio':>8}")
        for label, exact, capped in compare_counts(users, args.calls):
            print(f"{label:58} {exact:8.1f} {capped:8.1f} {exact / capped:8.1f}")


if __name__ == "__main__":
    main()
