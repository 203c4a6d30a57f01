"""Person search at scale: full ID number (blind index) and name prefix over N people.

    .venv/bin/python bench/person_search_bench.py --people 1000000            # SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/regsearch \\
        .venv/bin/python bench/person_search_bench.py --people 1000000        # PostgreSQL

Searches go through the real read path of the people page: `selectors.person_list(user=…,
q=…)` paginated by the page's `PeoplePaginator` (count capped at 1,000 + first page of 30),
for a global user, a street operator (the whole street) and a grid worker (one grid, half
the people). Query texts: a full 18-character ID number (normalised, blind index), a full
phone number (blind index), a surname plus one given character ("王秀"), a full name, the
bare surname of a random person, the bare surname 王 (~7 % of everyone, as in China), and
no search at all (the list itself). Surnames follow rough national shares (WEIGHTS).

`--keep` keeps the bench database and prints the URL for `--reuse URL`, which migrates it
(new migrations only) and measures again on the same rows: before/after on one data set.

Loading is a bench fast path, not the import: names, birth dates and valid ID numbers are
generated, ID and phone are encrypted and blind-indexed with the real `core.crypto` (so the
selectors find them), and rows go in with executemany (SQLite) or COPY (PostgreSQL) into a
freshly migrated bench database, which is dropped afterwards. Planner statistics are
gathered after loading (ANALYZE; PostgreSQL's autovacuum does the same in production).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "秀英华明建国芳敏静丽强军平杰娟涛磊洋勇艳超霞刚桂兰玉萍红梅燕峰辉波斌宇浩凯鹏飞志文俊伟海亮新春云林利琴雪梦晨阳光荣德福寿安康宁庆祥瑞嘉佳欣悦怡婷雅倩颖琳璐露雯蕾薇蓉菲丹彤晓慧智睿哲思远博航天宏鸿鑫森淼焱垚金银铭锦钰珍珠宝贵富"  # noqa: E501
COLUMNS = (
    "created_at", "updated_at", "unit_id", "unit_path", "name", "sex", "birth_date",
    "id_number_enc", "id_number_bidx", "phone_enc", "phone_bidx", "residency", "nationality",
    "ethnicity", "relation", "address", "registered_address", "status", "notes",
)  # fmt: skip
PAGE_SIZE = 30
# Rough shares of China's most common surnames (王 ~7 %, 李, 张 ~7 %, 刘 ~5 % ...), then a
# linear tail: a bare-surname search for 王 must count and page ~70,000 people in a million.
WEIGHTS = (7.1, 7.0, 6.7, 5.3, 4.6, 3.1, 2.0, 2.0, 1.6, 1.5,
           *(1.2 - 1.05 * i / 89 for i in range(90)))  # fmt: skip


def person_rows(count: int, units: list[tuple[int, str]]) -> Iterator[tuple]:
    """Generated people with real ciphertexts and blind indexes (deterministic from seed 7)."""
    from stdnum.iso7064 import mod_11_2

    from civicgrid.core import crypto
    from civicgrid.registry.models import ID_PURPOSE, PHONE_PURPOSE

    rng = random.Random(7)
    now = datetime.now(UTC)
    for n in range(count):
        birth = date(1930, 1, 1) + timedelta(days=rng.randrange(32000))
        body = f"{320000 + n // 1000:06d}{birth:%Y%m%d}{n % 1000:03d}"  # unique per n
        number = body + mod_11_2.calc_check_digit(body)
        phone = f"13{n:09d}"
        surname = rng.choices(SURNAMES, WEIGHTS)[0]
        name = surname + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        unit_id, path = units[n % len(units)]
        yield (
            now, now, unit_id, path, name, "M" if int(number[16]) % 2 else "F", birth,
            crypto.encrypt(number, purpose=ID_PURPOSE),
            crypto.blind_index(number, purpose=ID_PURPOSE),
            crypto.encrypt(phone, purpose=PHONE_PURPOSE),
            crypto.blind_index(phone, purpose=PHONE_PURPOSE),
            "registered", "中国", "汉族", "", f"河下街道估衣街{n % 500}号", "", "active", "",
        )  # fmt: skip


# --- loading ------------------------------------------------------------------------------


def load(count: int) -> dict[str, object]:
    """Tree, users and `count` people; returns the users and samples to query for."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from civicgrid.accounts import services as accounts
    from civicgrid.accounts.choices import Role
    from civicgrid.core.testing.factories import make_tree

    tree = make_tree()
    user_model = get_user_model()
    users = {
        "global": user_model.objects.create_superuser("bench", None, "x"),
        "street": user_model.objects.create_user("street", None, "x"),
        "grid": user_model.objects.create_user("grid", None, "x"),
    }
    accounts.role_assign(user=users["street"], role=Role.OPERATOR, region=tree.street)
    accounts.role_assign(user=users["grid"], role=Role.GRID_WORKER, region=tree.grid_a)
    units = [(u.pk, u.path) for u in (*tree.units_a, *tree.units_b, *_more_units(tree))]
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        _copy_pg(person_rows(count, units))
    else:
        _insert_sqlite(person_rows(count, units))
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # PostgreSQL: what autovacuum does after a bulk load (statistics, and the visibility
        # map that lets COUNT use an index-only scan); SQLite: planner statistics.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"loaded {count:,} people in {loaded:.0f}s, ANALYZE {time.perf_counter() - started:.0f}s",
          flush=True)  # fmt: skip
    return {"users": users}


def _more_units(tree) -> list:
    """93 more unit grids under the two test grids, ~100 in all like Hexia's 99, so people
    per unit (and how far a scan in scope order must go) are those of a real street.
    Bench fast path: rows only, no boundaries (search never reads them)."""
    from civicgrid.grids.models import Region

    grids = (tree.grid_a, tree.grid_b)
    assert tree.units_a[0].path == f"{tree.grid_a.path}{tree.units_a[0].code}/"
    units = [
        Region(name=f"估衣街社区{n:02d}单元", level="unit", code=f"320803001001{n:02d}",
               parent=grids[n % 2], path=f"{grids[n % 2].path}320803001001{n:02d}/")
        for n in (*range(5, 90), *range(91, 99))
    ]  # fmt: skip
    return Region.objects.bulk_create(units)


def _insert_sqlite(rows: Iterator[tuple]) -> None:
    from django.db import connection, transaction

    sql = (f"INSERT INTO registry_person ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('%s' for _ in COLUMNS)})")  # fmt: skip
    while chunk := [row for _, row in zip(range(20_000), rows, strict=False)]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, chunk)


def _copy_pg(rows: Iterator[tuple]) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        sql = f"COPY registry_person ({', '.join(COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


# --- measuring ----------------------------------------------------------------------------


def search(user, q: str) -> int:
    """What the people page does for one search: the capped count and the first page of
    30 through the page's own paginator (ids from an index, then the rows with their
    joins). Returns the matches counted (1001 means "more than 1000")."""
    from civicgrid.registry import selectors
    from civicgrid.registry.views import PeoplePaginator

    qs = selectors.person_list(user=user, q=q)
    page = PeoplePaginator(qs, PAGE_SIZE, user=user).get_page(1)
    list(page.object_list)
    return page.paginator.seen


def timed(fn: Callable[[], int], repeat: int) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, matches of the last call)."""
    samples, found = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        found = fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], found


def samples(count: int, queries: int) -> list[tuple[str, str, str]]:
    """(ID number, phone, name) of random people, decrypted the way a detail page does."""
    from civicgrid.registry.models import Person

    first = Person.objects.order_by("pk").values_list("pk", flat=True).first() or 1
    pks = random.Random(11).sample(range(first, first + count), queries)
    people = Person.objects.filter(pk__in=pks).only("name", "id_number_enc", "phone_enc")
    return [(p.id_number, p.phone, p.name) for p in people]


def measure(count: int, people: list[tuple[str, str, str]], users: dict) -> None:
    from django.db import connection

    engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    cases = {
        "full ID number": lambda p: p[0],
        "full phone number": lambda p: p[1],
        "name prefix (2 chars)": lambda p: p[2][:2],
        "full name": lambda p: p[2],
        "surname only": lambda p: p[2][:1],
        "surname 王 (~7 %)": lambda p: "王",
        "no search (list)": lambda p: "",
    }
    for label, make_q in cases.items():
        for who, user in users.items():
            search(user, make_q(people[0]))  # warm the connection and the plan cache
            queue = iter(people)
            p50, p95, found = timed(lambda u=user, f=make_q, c=queue: search(u, f(next(c))),
                                    len(people))  # fmt: skip
            print(f"{engine:>10} {count:>9,} people | {label:<21} | {who:<6} | p50 "
                  f"{p50:7.2f} ms  p95 {p95:7.2f} ms | last hit {found:,}", flush=True)  # fmt: skip


def explain(users: dict, sample_id: str, prefix: str) -> None:
    """The plans the selectors get, so a missing index shows up in the output."""
    from civicgrid.registry import selectors

    for label, q in (("ID", sample_id), ("prefix", prefix), ("surname", "王"), ("list", "")):
        for who in ("street", "grid"):
            qs = selectors.person_list(user=users[who], q=q)
            counted = qs.select_related(None).order_by().values("pk")[: selectors.COUNT_CAP + 1]
            for part, query in (("ids", qs.values_list("pk", flat=True)[:PAGE_SIZE]),
                                ("count", counted)):  # fmt: skip
                plan = " | ".join(line.strip() for line in query.explain().splitlines())
                print(f"plan {part} {label} {who}: {plan[:600]}")


# --- databases ----------------------------------------------------------------------------


def bench_url(workdir: Path) -> tuple[str, Callable[[], None]]:
    """A fresh bench database next to (never on top of) the configured one, and its dropper."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        path = workdir / "search.sqlite3"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    base, _slash, name = url.rpartition("/")
    clone = f"{name}_search_bench"

    def psql(sql: str) -> None:
        subprocess.run(["psql", f"{base}/postgres", "-qc", sql], check=True)

    psql(f'DROP DATABASE IF EXISTS "{clone}"')
    psql(f'CREATE DATABASE "{clone}"')
    return f"{base}/{clone}", lambda: psql(f'DROP DATABASE IF EXISTS "{clone}"')


def child(count: int, queries: int, *, reuse: bool) -> None:
    import django

    django.setup()
    users = existing_users() if reuse else load(count)["users"]
    people = samples(count, queries)
    explain(users, people[0][0], people[0][2][:2])
    measure(count, people, users)


def existing_users() -> dict:
    """The bench users of a database loaded by an earlier `--keep` run."""
    from django.contrib.auth import get_user_model

    by_name = get_user_model().objects.in_bulk(["bench", "street", "grid"], field_name="username")
    return {"global": by_name["bench"], "street": by_name["street"], "grid": by_name["grid"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database, print its URL")
    parser.add_argument("--reuse", metavar="URL", help="measure a --keep database (migrated)")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.people, args.queries, reuse=bool(args.reuse))
        return
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        if args.reuse:
            url, drop = args.reuse, lambda: None
        else:
            url, drop = bench_url(Path(os.environ.get("BENCH_TMP", ROOT / "var")) if args.keep
                                  else Path(tmp))  # fmt: skip
        env = {**os.environ, "DATABASE_URL": url}
        try:
            subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True, env=env,
                           cwd=ROOT)  # fmt: skip
            cmd = [sys.executable, __file__, "--child", "--people", str(args.people),
                   "--queries", str(args.queries)]  # fmt: skip
            cmd += ["--reuse", url] if args.reuse else []
            subprocess.run(cmd, check=True, env=env, cwd=ROOT)
        finally:
            if args.keep:
                print(f"kept: --reuse {url}", flush=True)
            else:
                drop()


if __name__ == "__main__":
    main()
