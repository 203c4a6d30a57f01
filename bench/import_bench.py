"""Import engine benchmark: read + normalise N rows from .csv and .xlsx; rows/s and peak RSS.

    .venv/bin/python bench/import_bench.py              # 100k rows
    .venv/bin/python bench/import_bench.py --million    # also 1M rows (a few minutes)

Each measurement runs in a fresh subprocess so `ru_maxrss` is that run's own peak. The floor
is the bare reader (csv.reader / calamine iter_rows) on the same file in the same run, so the
ratio shows what header detection, column mapping and cell normalisation cost. Writing to the
database is the domain kind's part and is measured by the registry benchmark.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
HEADER = ["序号", "公民身份号码", "姓 名", "出生日期", "网格编码", "手机号码", "现住址"]


def _rows(count: int):
    rng = random.Random(4)
    from stdnum.iso7064 import mod_11_2

    for n in range(count):
        birth = date(1930, 1, 1) + timedelta(days=rng.randrange(30000))
        prefix = f"320803{birth:%Y%m%d}{n % 1000:03d}"
        yield [n + 1, prefix + mod_11_2.calc_check_digit(prefix), f" 居民{n}\u3000", birth,
               f"320803001001{n % 99:02d}", f"138{n:08d}", f"河下街道{n % 500}号"]  # fmt: skip


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["河下街道实有人口登记表"])
        writer.writerow(HEADER)
        for row in _rows(count):
            row[3] = row[3].strftime("%Y.%m.%d")
            writer.writerow(row)
        writer.writerow([])
        writer.writerow(["填表人：王芳", "", "审核人：李强"])


def write_xlsx(path: Path, count: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("实有人口")
    sheet.append(["河下街道实有人口登记表"])
    sheet.append(HEADER)
    for row in _rows(count):
        sheet.append(row)
    sheet.append([])
    sheet.append(["填表人：王芳", None, "审核人：李强"])
    workbook.save(path)


def measure(path: str, mode: str) -> dict:
    """Runs in the child process: read the file once and report time and peak RSS."""
    import django

    django.setup()
    from civicgrid.core.imports import Column, ImportKind, id_text, open_table, parse_date

    class BenchKind(ImportKind):
        name, label = "bench_person", "基准人口"
        columns = (
            Column("id_number", "身份证号", ("公民身份号码",), True, id_text),
            Column("name", "姓名", (), True),
            Column("birth_date", "出生日期", (), False, parse_date),
            Column("grid", "所属网格", ("网格编码",), True),
            Column("phone", "手机号码", (), False, id_text),
            Column("address", "现住址", (), False),
        )

    start = time.perf_counter()
    rows = errors = 0
    if mode == "floor":
        rows = _floor(Path(path))
    else:
        kind = BenchKind()
        for row in open_table(path, BenchKind, max_bytes=None).rows():
            _cleaned, row_errors = kind.validate_row(row.values, row.number)
            rows += 1
            errors += bool(row_errors)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows": rows,
        "errors": errors,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak),
    }


def _floor(path: Path) -> int:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return sum(1 for _ in csv.reader(handle)) - 5
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    return sum(1 for _ in sheet.iter_rows()) - 5


def _child(path: Path, mode: str) -> dict:
    cmd = [sys.executable, __file__, "--measure", str(path), "--mode", mode]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--million", action="store_true", help="also run 1,000,000 rows")
    parser.add_argument("--rows", type=int, nargs="*", help="row counts (default 100000)")
    parser.add_argument("--measure"), parser.add_argument("--mode", default="engine")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.mode)))
        return
    counts = args.rows or [100_000] + ([1_000_000] if args.million else [])
    with tempfile.TemporaryDirectory() as tmp:
        for count in counts:
            for suffix, writer in ((".csv", write_csv), (".xlsx", write_xlsx)):
                _report(Path(tmp) / f"people-{count}{suffix}", count, writer)


def _report(path: Path, count: int, writer) -> None:
    started = time.perf_counter()
    writer(path, count)
    made = time.perf_counter() - started
    floor, engine = _child(path, "floor"), _child(path, "engine")
    assert engine["rows"] == count and engine["errors"] == 0, engine
    print(
        f"{path.suffix[1:]:>4} {count:>9,} rows  {path.stat().st_size / 2**20:6.1f} MB "
        f"(generated in {made:.0f}s)  engine {count / engine['seconds']:>9,.0f} rows/s "
        f"peak RSS {engine['peak_rss_mb']:>5} MB | bare reader {count / floor['seconds']:>9,.0f} "
        f"rows/s peak RSS {floor['peak_rss_mb']:>5} MB | engine/bare "
        f"{floor['seconds'] / engine['seconds']:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
