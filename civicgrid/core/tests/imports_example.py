"""A small example import kind for the engine's tests, and builders of office-style files.

The kind imports "residents" into the user table (username = ID number) and checks grid
codes against auth Groups, so the engine is proven without adding any model. The workbook
builders reproduce what street offices actually send: title rows, a merged two-row header,
IDs typed as numbers, lower-case check characters, stray spaces, date cells, duplicates and a
signature line under the table.
"""

from __future__ import annotations

import csv
from collections.abc import Hashable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from openpyxl import Workbook
from stdnum.iso7064 import mod_11_2

from civicgrid.core.imports import (
    CellError,
    Column,
    ImportKind,
    PreparedRow,
    RowError,
    id_text,
    parse_date,
)


def make_id(prefix17: str) -> str:
    """A valid 18-character resident ID from its first 17 digits."""
    return prefix17 + mod_11_2.calc_check_digit(prefix17)


def resident_id(seq: int, birth: str = "19580302") -> str:
    return make_id(f"320803{birth}{seq % 1000:03d}")


def _resident_id(value: Any) -> str:
    text = id_text(value)
    if len(text) != 18 or not text[:17].isdigit():
        raise CellError("id_format", f"身份证号“{text}”应为 18 位")
    if not mod_11_2.is_valid(text):
        raise CellError("id_checksum", f"身份证号“{text}”校验位不正确")
    return text


class ResidentKind(ImportKind):
    name = "test_resident"
    label = "测试居民"
    columns = (
        Column("id_number", "身份证号", ("公民身份号码", "身份证号码"), True, _resident_id,
               example=resident_id(1)),
        Column("name", "姓名", ("居民姓名",), True, example="张三"),
        Column("birth_date", "出生日期", ("出生年月日",), False, parse_date, example="1958-03-02"),
        Column("grid", "所属网格", ("网格编码", "网格"), True, example="32080300100101"),
        Column("phone", "手机号码", ("手机", "联系电话"), False, id_text),
        Column("landline", "固话", ("联系方式固定电话",), False, id_text),
    )  # fmt: skip
    fail_on_row: int | None = None  # tests force a failure in the batch holding this row

    def validate_row(self, row: dict[str, Any], number: int) -> tuple[dict[str, Any], list]:
        cleaned, errors = super().validate_row(row, number)
        birth, id_number = cleaned.get("birth_date"), cleaned.get("id_number")
        if birth and id_number and birth.strftime("%Y%m%d") != id_number[6:14]:
            errors.append(RowError(number, "出生日期", "birth_mismatch", "出生日期与身份证号不符"))
        return cleaned, errors

    def natural_key(self, cleaned: dict[str, Any]) -> Hashable | None:
        return cleaned["id_number"]

    def validate_batch(self, rows: list[PreparedRow]) -> None:
        codes = {r.cleaned["grid"] for r in rows}
        known = set(Group.objects.filter(name__in=codes).values_list("name", flat=True))
        for row in rows:
            if row.cleaned["grid"] not in known:
                message = f"网格“{row.cleaned['grid']}”不存在"
                row.errors.append(RowError(row.number, "所属网格", "unknown_grid", message))

    def lookup_existing(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        users = get_user_model().objects.filter(username__in=list(keys))
        return {u.username: u for u in users}

    def apply_batch(self, rows: list[PreparedRow], actor: Any) -> None:
        user_model = get_user_model()
        new = [user_model(username=r.cleaned["id_number"], **self._fields(r)) for r in rows
               if not r.is_update]  # fmt: skip
        user_model.objects.bulk_create(new)
        changed = []
        for row in (r for r in rows if r.is_update):
            for field, value in self._fields(row).items():
                setattr(row.existing, field, value)
            changed.append(row.existing)
        user_model.objects.bulk_update(changed, ["name", "first_name", "last_name"])
        if self.fail_on_row and any(r.number == self.fail_on_row for r in rows):
            raise RuntimeError("forced failure for the test")

    @staticmethod
    def _fields(row: PreparedRow) -> dict[str, Any]:
        birth = row.cleaned["birth_date"]
        return {
            "name": row.cleaned["name"],
            "first_name": birth.isoformat() if birth else "",
            "last_name": row.cleaned["grid"],
        }


class StrictResidentKind(ResidentKind):
    """The same kind refusing rows already in the database (duplicate_in_db)."""

    name = "test_resident_strict"
    update_existing = False


GRIDS = ("32080300100101", "32080300100102")
ID_A, ID_B, ID_C, ID_D = (resident_id(n) for n in (11, 12, 13, 14))
ID_X = make_id("32080319580302009")  # ends in X
assert ID_X.endswith("X"), ID_X


def office_rows() -> list[list[Any]]:
    """Data rows as an office types them (sheet rows 5–14 in `office_workbook`)."""
    return [
        [1, ID_A, " 张三 ", date(1958, 3, 2), GRIDS[0], "13800000001", None],  # 5 ok
        [2, ID_X.lower(), "李\u3000四", "1958.3.2", GRIDS[0], None, "0517-1234567"],  # 6 ok
        [3, 320803195803020123, "王五", None, GRIDS[1], None, None],  # 7 id typed as number
        [4, ID_B[:-1] + ("0" if ID_B[-1] != "0" else "1"), "赵六", None, GRIDS[1], None, None],
        [5, ID_C, "", "1958年3月2日", GRIDS[0], None, None],  # 9 missing name
        [6, ID_A, "张三重复", None, GRIDS[0], None, None],  # 10 duplicate of row 5
        [7, ID_D, "钱七", "1958-02-30", GRIDS[0], None, None],  # 11 bad date
        [8, resident_id(15), "孙八", 21246, "99999999999999", None, None],  # 12 unknown grid
        [None, None, None, None, None, None, None],  # 13 blank
        [9, resident_id(16), "周九 ", 21246.0, GRIDS[1], 13800000009, None],  # 14 ok, serial
    ]


def expected_errors() -> list[dict[str, Any]]:
    return [
        {"row": 7, "column": "身份证号", "code": "id_mangled"},
        {"row": 8, "column": "身份证号", "code": "id_checksum"},
        {"row": 9, "column": "姓名", "code": "missing_field"},
        {"row": 10, "column": "身份证号", "code": "duplicate_in_file"},
        {"row": 11, "column": "出生日期", "code": "bad_date"},
        {"row": 12, "column": "所属网格", "code": "unknown_grid"},
    ]


def office_workbook(path: Path, rows: list[list[Any]] | None = None) -> Path:
    """Title rows, a merged two-row header (联系方式 over 手机号码/固定电话), a footer."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "实有人口"
    sheet.append(["河下街道实有人口登记表"])
    sheet.merge_cells("A1:G1")
    sheet.append(["填报单位：河下街道  2024年5月"])
    sheet.append(["序号", "公民身份号码", "姓 名", "出生日期", "网格编码", "联系方式", None])
    sheet.append([None, None, None, None, None, "手机号码", "固定电话"])
    for column in "ABCDE":
        sheet.merge_cells(f"{column}3:{column}4")
    sheet.merge_cells("F3:G3")
    for row in rows if rows is not None else office_rows():
        sheet.append(row)
    sheet.append([])
    sheet.append([])
    sheet.append(["填表人：王芳", None, "审核人：李强", None, "制表日期：2024年5月6日"])
    workbook.save(path)
    return path


def simple_rows(count: int, start: int = 0) -> list[list[Any]]:
    """`count` valid rows with distinct IDs (header: 身份证号, 姓名, 所属网格)."""
    return [
        [resident_id(n, "19600101"), f"居民{n}", GRIDS[n % 2]] for n in range(start, start + count)
    ]


def simple_csv(path: Path, rows: list[list[Any]], *, encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["身份证号", "姓名", "所属网格"])
        writer.writerows(rows)
    return path


def simple_workbook(path: Path, rows: list[list[Any]]) -> Path:
    workbook = Workbook()
    workbook.active.append(["身份证号", "姓名", "所属网格"])
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path
