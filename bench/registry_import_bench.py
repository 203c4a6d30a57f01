"""Registry person import benchmark: full import of N people against a bulk_create floor.

    .venv/bin/python bench/registry_import_bench.py --rows 100000 1000000 --formats csv xlsx
    .venv/bin/python bench/registry_import_bench.py --rows 1000000 --formats csv --no-floor
    .venv/bin/python bench/registry_import_bench.py --readers 100000   # xlsx reader shoot-out

"Import" is the person kind through the engine with everything on: header detection, cell
normalisation, GB 11643 validation, phone normalisation, AES-GCM encryption of ID and phone,
the keyed blind index, the duplicate-in-file check, one duplicate lookup per batch, bulk
insert, one audit row per person (hash-chained, appended per batch). `--no-floor` runs the
import alone (for memory at a million rows when the floor is known from an earlier run).
The floor is the same rows read with csv.reader / the streaming xlsx reader and inserted with
`bulk_create` with no validation or encryption, in the same run on the same database engine.
Each measurement runs in a fresh subprocess on a fresh copy of a migrated database, so
`ru_maxrss` is that run's own peak. DATABASE_URL picks the engine (default: SQLite file).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
HEADER = ["序号", "姓 名", "公民身份号码", "性别", "出生日期", "联系电话", "网格编码", "现住地址"]
UNITS = ("32080300100101", "32080300100102", "32080300100103", "32080300100104")


def people(count: int):
    from stdnum.iso7064 import mod_11_2

    rng = random.Random(4)
    for n in range(count):
        birth = date(1930, 1, 1) + timedelta(days=rng.randrange(30000))
        seq = n % 1000
        prefix = f"{320000 + n // 1000 % 100000:06d}{birth:%Y%m%d}{seq:03d}"
        number = prefix + mod_11_2.calc_check_digit(prefix)
        sex = "男" if seq % 2 else "女"
        yield [n + 1, f" 居民{n}\u3000", number, sex, birth, f"138{n:08d}", UNITS[n % 4],
               f"河下街道估衣街{n % 500}号"]  # fmt: skip


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["河下街道实有人口登记表"])
        writer.writerow(HEADER)
        for row in people(count):
            row[4] = row[4].strftime("%Y.%m.%d")
            writer.writerow(row)
        writer.writerow([])
        writer.writerow(["填表人：王芳", "", "审核人：李强"])


def write_xlsx(path: Path, count: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("实有人口")
    sheet.append(["河下街道实有人口登记表"])
    sheet.append(HEADER)
    for row in people(count):
        sheet.append(row)
    sheet.append([])
    sheet.append(["填表人：王芳", None, "审核人：李强"])
    workbook.save(path)


# --- child processes --------------------------------------------------------------------------


def child_import(path: str, mode: str) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="bench")
    start, cpu_start = time.perf_counter(), time.process_time()
    result = _floor(Path(path)) if mode == "floor" else _engine(Path(path), user)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # CPU seconds as well as wall seconds: on a shared box the wall clock also measures the
    # neighbours; SQLite runs in this process, so its work is in the CPU time too.
    out = {**result, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
           "peak_rss_mb": round(peak), "mode": mode, "file": Path(path).name}  # fmt: skip
    with (Path(path).parent.parent / "registry_import_results.jsonl").open("a") as log:
        log.write(json.dumps(out) + "\n")
    return out


def _engine(path: Path, user) -> dict:
    from civicgrid.core.context import acting_as
    from civicgrid.core.imports import ImportRun, open_table
    from civicgrid.registry.imports import PersonKind

    with acting_as(user):
        table = open_table(path, PersonKind, max_bytes=None)
        summary = ImportRun(PersonKind(actor=user), table, apply=True, actor=user).run()
    return {"rows": summary.rows, "created": summary.created, "refused": summary.refused}


def _floor(path: Path) -> dict:
    """Same rows, bare reader, bulk_create in batches of 500, no validation or encryption."""
    from django.db import transaction

    from civicgrid.grids.models import Region
    from civicgrid.registry.models import Person

    units = {u.code: u for u in Region.objects.filter(code__in=UNITS)}
    rows = _bare_rows(path)
    count, batch = 0, []
    for row in rows:
        unit = units[str(row[6])]
        batch.append(Person(name=str(row[1]), unit=unit, unit_path=unit.path,
                            id_number_enc=str(row[2]), id_number_bidx=str(row[2]),
                            phone_enc=str(row[5]), address=str(row[7])))  # fmt: skip
        if len(batch) == 500:
            with transaction.atomic():
                Person.objects.bulk_create(batch)
            count, batch = count + len(batch), []
    with transaction.atomic():
        Person.objects.bulk_create(batch)
    return {"rows": count + len(batch), "created": count + len(batch), "refused": 0}


def _bare_rows(path: Path):
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                if len(row) == 8 and row[0].isdigit():
                    yield row
        return
    from civicgrid.core.imports.xlsx_stream import StreamingWorkbook

    workbook = StreamingWorkbook(str(path))
    for _number, row in workbook.rows(workbook.sheets[0]):
        if len(row) == 8 and isinstance(row[0], int):
            yield row


def child_read(path: str, reader: str) -> dict:
    """Read every row of the sheet with one reader; time and peak RSS."""
    start = time.perf_counter()
    rows = 0
    if reader == "stream":
        sys.path.insert(0, str(ROOT))
        from civicgrid.core.imports.xlsx_stream import StreamingWorkbook

        workbook = StreamingWorkbook(path)
        rows = sum(1 for _ in workbook.rows(workbook.sheets[0]))
    elif reader == "calamine":
        from python_calamine import CalamineWorkbook

        rows = sum(1 for _ in CalamineWorkbook.from_path(path).get_sheet_by_index(0).iter_rows())
    else:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True)
        rows = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "seconds": round(seconds, 2), "peak_rss_mb": round(peak)}


# --- parent -------------------------------------------------------------------------------------


def prepare_template(workdir: Path) -> dict[str, str]:
    """Migrate once (SQLite: a file copied per run; PostgreSQL: a template database)."""
    url = os.environ.get("DATABASE_URL", "")
    env = dict(os.environ)
    if not url.startswith("postgres"):
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'template.sqlite3'}"
    _manage(env, "migrate", "-v0")
    code = (
        "import django; django.setup()\n"
        "from civicgrid.core.testing.factories import make_tree\n"
        "from django.contrib.auth import get_user_model\n"
        "make_tree(); get_user_model().objects.create_superuser('bench', None, 'x')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
    return env


def fresh_db(template_env: dict[str, str], workdir: Path, tag: str) -> dict[str, str]:
    env = dict(template_env)
    url = env["DATABASE_URL"]
    if url.startswith("sqlite"):
        target = workdir / f"{tag}.sqlite3"
        shutil.copy(workdir / "template.sqlite3", target)
        env["DATABASE_URL"] = f"sqlite:///{target}"
        return env
    base, _slash, name = url.rpartition("/")
    clone = f"{name}_{tag}"
    sql = f'DROP DATABASE IF EXISTS "{clone}"; CREATE DATABASE "{clone}" TEMPLATE "{name}";'
    subprocess.run(["psql", f"{base}/postgres", "-qc", sql.split(";")[0]], check=True)
    subprocess.run(["psql", f"{base}/postgres", "-qc", sql.split(";")[1]], check=True)
    env["DATABASE_URL"] = f"{base}/{clone}"
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True, env=env, cwd=ROOT)


def _child(env: dict[str, str], *args: str) -> dict:
    cmd = [sys.executable, __file__, *args]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_imports(counts: list[int], formats: list[str], workdir: Path, floor: bool = True) -> None:
    template = prepare_template(workdir)
    engine = "PostgreSQL" if template["DATABASE_URL"].startswith("postgres") else "SQLite"
    for count in counts:
        for fmt in formats:
            path = workdir / f"people-{count}.{fmt}"
            started = time.perf_counter()
            (write_csv if fmt == "csv" else write_xlsx)(path, count)
            made = time.perf_counter() - started
            full = _child(fresh_db(template, workdir, f"i{count}{fmt}"), "--child", str(path),
                          "--mode", "import")  # fmt: skip
            assert full["created"] == count and full["refused"] == 0, full
            if not floor:
                print(f"{engine} {fmt:>4} {count:>9,} rows | import {count / full['seconds']:,.0f} "
                      f"rows/s wall, {count / full['cpu_seconds']:,.0f} rows per CPU-s, peak "
                      f"{full['peak_rss_mb']} MB (no floor run)", flush=True)  # fmt: skip
                path.unlink()
                continue
            floor = _child(fresh_db(template, workdir, f"f{count}{fmt}"), "--child", str(path),
                           "--mode", "floor")  # fmt: skip
            print(
                f"{engine} {fmt:>4} {count:>9,} rows {path.stat().st_size / 2**20:6.1f} MB "
                f"(made in {made:.0f}s) | import {count / full['seconds']:>7,.0f} rows/s "
                f"{full['seconds']:>7.1f}s peak {full['peak_rss_mb']:>4} MB | floor "
                f"{count / floor['seconds']:>7,.0f} rows/s peak {floor['peak_rss_mb']:>4} MB | "
                f"import/floor {floor['seconds'] / full['seconds']:.2f} | per CPU second: "
                f"import {count / full['cpu_seconds']:,.0f} floor "
                f"{count / floor['cpu_seconds']:,.0f} rows/s, ratio "
                f"{floor['cpu_seconds'] / full['cpu_seconds']:.2f}",
                flush=True,
            )
            path.unlink()


def run_readers(count: int, workdir: Path) -> None:
    path = workdir / f"readers-{count}.xlsx"
    write_xlsx(path, count)
    for reader in ("stream", "calamine", "openpyxl"):
        result = _child(dict(os.environ), "--read", str(path), "--mode", reader)
        print(f"xlsx reader {reader:>9} {count:>9,} rows {count / result['seconds']:>8,.0f} rows/s "
              f"peak RSS {result['peak_rss_mb']:>4} MB", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000])
    parser.add_argument("--formats", nargs="*", default=["csv", "xlsx"])
    parser.add_argument("--readers", type=int, help="compare xlsx readers on N rows")
    parser.add_argument("--no-floor", action="store_true", help="import only, no floor run")
    parser.add_argument("--child"), parser.add_argument("--read"), parser.add_argument("--mode")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_import(args.child, args.mode)))
        return
    if args.read:
        print(json.dumps(child_read(args.read, args.mode)))
        return
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        if args.readers:
            run_readers(args.readers, Path(tmp))
        else:
            run_imports(args.rows, args.formats, Path(tmp), floor=not args.no_floor)


if __name__ == "__main__":
    main()
