"""Queues at scale: capped counts (tab badges "99+", pager "1000+", the API's `capped` and
`count_capped`), the queries each queue page asks (fixed, asserted), the indexes each
bucket needs and SQLite's periodic `PRAGMA optimize`."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.accounts.scope import scope_of
from civicgrid.cases import scheduler, selectors
from civicgrid.cases.models import Case
from civicgrid.core.testing.factories import api_client
from civicgrid.core.testing.plans import index_names, plan_with_index

from .factories import OUTSIDE, report, to_status

pytestmark = pytest.mark.django_db
BASE = "/api/v1/cases"


@pytest.fixture(autouse=True)
def _no_duplicate_finder(settings):
    settings.CASES_DUPLICATE_FINDER = ""  # identical test reports would all be 疑似重复


def _reports(actors, category, n: int) -> list[Case]:
    return [report(actors, category) for _ in range(n)]


def _case_queries(ctx) -> list[str]:
    """The queries of a request that read cases (auth and session queries are someone
    else's business and may change)."""
    return [q["sql"] for q in ctx.captured_queries if '"cases_case"' in q["sql"]]


# --- selectors -------------------------------------------------------------------------------


def test_capped_count_stops_at_the_cap(tree, actors, category, django_assert_num_queries):
    _reports(actors, category, 5)
    qs = selectors.centre_queue(user=actors.operator, bucket="new")
    scope_of(actors.operator)
    with django_assert_num_queries(1):
        few = selectors.capped_count(qs=qs, cap=3)
    assert (few, few.capped, few.text, str(few)) == (3, True, "3+", "3")
    exact = selectors.capped_count(qs=qs, cap=5)
    assert (exact, exact.capped, exact.text) == (5, False, "5")
    sql = qs.order_by().values("pk")[:4].query
    assert "ORDER BY" not in str(sql) and "JOIN" not in str(sql)  # no sort, no joins counted


def test_bucket_counts_in_one_query_capped_per_bucket(
    tree, actors, category, django_assert_num_queries
):
    _reports(actors, category, 4)
    to_status(actors, report(actors, category), tree, "accepted")
    op = actors.operator
    scope_of(op)
    with django_assert_num_queries(1):
        counts = selectors.centre_queue_counts(user=op, cap=2)
    assert counts["new"] == 2 and counts["new"].capped
    assert counts["to_dispatch"] == 1 and not counts["to_dispatch"].capped
    assert counts["overdue"] == 0 and not counts["overdue"].capped
    assert selectors.centre_queue_counts(user=op)["new"] == 4  # default cap 99
    assert set(counts) == set(selectors.centre_buckets(timezone.now()))


def test_department_counts_capped_and_nothing_for_users_without_a_department(
    tree, actors, category, django_assert_num_queries
):
    for _ in range(3):
        to_status(actors, report(actors, category), tree, "dispatched")
    h = actors.handler
    scope_of(h), scope_of(actors.operator)
    with django_assert_num_queries(1):
        counts = selectors.department_counts(user=h, cap=2)
    assert counts["to_sign"].text == "2+" and counts["in_hand"].text == "0"
    with django_assert_num_queries(1):  # no department: every bucket 0, still one query
        empty = selectors.department_counts(user=actors.operator)
    assert set(empty.values()) == {0}


def test_department_workbench_stays_inside_the_handlers_scope(tree, actors, category):
    """The workbench reads by department alone (no `reporter OR …`): still only cases the
    handler may see, and all of their department's."""
    mine = to_status(actors, report(actors, category), tree, "dispatched")
    report(actors, category, point=OUTSIDE)
    h = actors.handler
    seen = set(selectors.case_list(user=h).values_list("pk", flat=True))
    for bucket in selectors.department_buckets(timezone.now()):
        got = set(
            selectors.department_workbench(user=h, bucket=bucket).values_list("pk", flat=True)
        )
        assert got <= seen
    assert {c.pk for c in selectors.department_workbench(user=h, bucket="to_sign")} == {mine.pk}


# --- API -------------------------------------------------------------------------------------


def test_api_counts_report_the_cap_and_the_capped_buckets(tree, actors, category):
    _reports(actors, category, 3)
    client = api_client(actors.operator)
    body = client.get(f"{BASE}/queues/centre").json()
    assert body["counts"]["new"] == 3 and body["capped"] == [] and body["cap"] == 99
    body = client.get(f"{BASE}/queues/centre?cap=2").json()
    assert body["counts"]["new"] == 2 and body["capped"] == ["new"] and body["cap"] == 2
    for bad in ("0", "10001", "x"):
        res = client.get(f"{BASE}/queues/centre?cap={bad}")
        assert res.status_code == 422, bad
    to_status(actors, report(actors, category), tree, "dispatched")
    body = api_client(actors.handler).get(f"{BASE}/queues/department?cap=1").json()
    assert body["counts"]["to_sign"] == 1 and body["capped"] == []


def test_api_page_count_is_capped_past_the_offset(tree, actors, category, monkeypatch):
    _reports(actors, category, 5)
    monkeypatch.setattr("civicgrid.cases.api.paging.PAGE_COUNT_CAP", 2)
    client = api_client(actors.operator)
    body = client.get(f"{BASE}/queues/centre/new?limit=1").json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (2, True, 1)
    body = client.get(f"{BASE}/queues/centre/new?limit=1&offset=3").json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (5, False, 1)
    monkeypatch.undo()
    body = client.get(f"{BASE}/queues/centre/new").json()
    assert (body["count"], body["count_capped"]) == (5, False)


def test_openapi_documents_the_capped_fields(client):
    schema = client.get("/api/v1/openapi.json").json()
    comps = schema["components"]["schemas"]
    counts = comps["QueueCountsOut"]["properties"]
    assert {"counts", "capped", "cap"} <= set(counts)
    paged = [v for k, v in comps.items() if "count_capped" in v.get("properties", {})]
    assert paged and all("count" in v["properties"] for v in paged)
    params = schema["paths"][f"{BASE}/queues/centre"]["get"]["parameters"]
    assert [p["name"] for p in params] == ["cap"]


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("operator", f"{BASE}/queues/centre"),
        ("operator", f"{BASE}/queues/centre/new"),
        ("operator", f"{BASE}/queues/centre/overdue"),
        ("handler", f"{BASE}/queues/department"),
        ("handler", f"{BASE}/queues/department/to_sign"),
    ],
)
def test_api_queue_calls_read_cases_in_a_fixed_number_of_queries(tree, actors, category, who, url):
    """A counts call is one query of cases; a page is the page plus one capped count,
    whatever the number of rows (the rest of the queries are authentication's)."""
    client = api_client(getattr(actors, who))

    def case_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return _case_queries(ctx), len(ctx.captured_queries)

    for _ in range(2):
        to_status(actors, report(actors, category), tree, "dispatched")
    few, total = case_queries()
    for _ in range(6):
        report(actors, category)
        to_status(actors, report(actors, category), tree, "dispatched")
    many, total_many = case_queries()
    assert len(few) == len(many) == (1 if url.endswith(("centre", "department")) else 2)
    assert total == total_many
    assert all("COUNT(*)" in q and "LIMIT" in q for q in many if "COUNT" in q)


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("operator", "/cases/centre/?tab=new", "reported"),
        ("handler", "/cases/dept/?tab=to_sign", "dispatched"),
    ],
)
def test_queue_pages_read_cases_in_three_queries(
    tree, actors, category, client_as, who, url, status
):
    """Page, its capped count and the tabs' capped counts: 3 queries of cases, fixed."""
    client = client_as(getattr(actors, who))
    for n in (2, 6):
        for _ in range(n):
            case = report(actors, category)
            if status != "reported":
                to_status(actors, case, tree, status)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        assert len(_case_queries(ctx)) == 3


def test_centre_page_shows_capped_badges_and_pager(tree, actors, category, client_as, monkeypatch):
    _reports(actors, category, 5)
    monkeypatch.setattr(selectors, "BUCKET_COUNT_CAP", 3)
    monkeypatch.setattr(selectors, "PAGE_COUNT_CAP", 1)
    monkeypatch.setattr("civicgrid.cases.views.work.PAGE_SIZE", 2)
    client = client_as(actors.operator)
    html = client.get("/cases/centre/?tab=new").content.decode()
    assert 'data-count="new" title="超过 3 件">3+</span>' in html
    assert "第 1 页,共 3+ 件" in html and "下一页" in html  # cap at least one page past
    html = client.get("/cases/centre/?tab=new&page=2").content.decode()
    assert "第 2 页,共 5+ 件" not in html and "第 2/3 页,共 5 件" in html
    html = client.get("/cases/centre/?tab=new&page=99").content.decode()
    assert "第 3/3 页,共 5 件" in html  # past the end: the last page, counted exactly
    html = client.get("/cases/centre/?tab=new&page=x").content.decode()
    assert "第 1 页,共 3+ 件" in html
    assert 'data-count="to_dispatch">0</span>' in html


# --- indexes and statistics ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bucket", "index"),
    [("unlocated", "case_unlocated_status"), ("duplicates", "case_dup_status")],
)
def test_sliver_buckets_have_partial_indexes(tree, actors, category, bucket, index):
    """The bucket indexes exist; on SQLite the bucket's query matches the partial index's
    condition (INDEXED BY fails to prepare otherwise). On a near-empty test table the
    planners prefer a scan, so the choice itself is shown by the 1M-case benchmark."""
    names = index_names("cases_case")
    assert index in names and {"case_extension_pending", "case_extension_dept"} <= names
    assert "case_dept_status_deadline_id" in names and "case_dept_status_deadline" not in names
    if connection.vendor == "sqlite":
        qs = selectors.centre_queue(user=actors.district_op, bucket=bucket)
        assert index in plan_with_index(qs, index)  # errors if unusable


def test_optimize_sqlite_runs_at_most_hourly(tree, actors, category, monkeypatch):
    monkeypatch.setattr(scheduler, "_optimized_at", None)
    now = timezone.now()
    if connection.vendor != "sqlite":
        assert scheduler.optimize_sqlite(now) == 0  # PostgreSQL: autovacuum's job
        return
    _reports(actors, category, 3)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS sqlite_stat1")
    assert scheduler.optimize_sqlite(now) == 1
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'cases_case'")
        assert cur.fetchone()[0] > 0
        cur.execute("PRAGMA analysis_limit")  # full statistics: sampled ones misled SQLite
        assert cur.fetchone()[0] == 0
    assert scheduler.optimize_sqlite(now + dt.timedelta(minutes=59)) == 0
    assert scheduler.optimize_sqlite(now + dt.timedelta(minutes=61)) == 1
    assert "optimize_sqlite" in scheduler.run_once(now + dt.timedelta(minutes=200))


def test_tabs_and_pager_in_english(tree, actors, category, client_as, settings):
    _reports(actors, category, 2)
    client = client_as(actors.operator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/cases/centre/?tab=new").content.decode()
    for label in ("New", "To dispatch", "Overdue", "To close", "Possible duplicates"):
        assert f">{label}\n" in html or f">{label} " in html or f">{label}<" in html, label
