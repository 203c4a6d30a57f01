"""Writing workbooks: the error workbook, the template per kind, and list exports.

All three use openpyxl's write-only mode, which streams rows to a temporary file, so an
export of a million rows does not hold a million rows in memory.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill

from .errors import RowError
from .kinds import ImportKind
from .normalize import spreadsheet_value
from .readers import SheetRow

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERROR_COLUMN = "错误原因"
ROW_COLUMN = "原行号"
_BOLD = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")


def _cell(sheet: Any, value: Any, *, bold: bool = False, text: bool = False) -> WriteOnlyCell:
    """A cell that keeps text as text: '=…' is not turned into a formula, control chars go."""
    value = spreadsheet_value(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    if bold:
        cell.font = _BOLD
    if text:
        cell.number_format = "@"
    return cell


def error_message(errors: Iterable[RowError]) -> str:
    return "；".join(f"{e.column}：{e.message}" if e.column else e.message for e in errors)


class ErrorWorkbook:
    """Refused rows with their original cells and a 错误原因 column, fit to fix and re-import."""

    def __init__(self, headers: Sequence[str]) -> None:
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet("错误数据")
        self.width = len(headers)
        labels = [*headers, ERROR_COLUMN, ROW_COLUMN]
        self.sheet.append([_cell(self.sheet, h, bold=True) for h in labels])
        self.count = 0

    def add(self, row: SheetRow, errors: list[RowError]) -> None:
        cells = list(row.raw[: self.width]) + [None] * (self.width - len(row.raw))
        values = [_cell(self.sheet, v, text=isinstance(v, str)) for v in cells]
        values += [_cell(self.sheet, error_message(errors)), _cell(self.sheet, row.number)]
        self.sheet.append(values)
        self.count += 1

    def save(self, target: str | Path | IO[bytes]) -> None:
        self.workbook.save(target)

    def discard(self) -> None:
        """Close the write-only stream when there is nothing to report."""
        self.workbook.save(io.BytesIO())


def template_workbook(kind: type[ImportKind], target: str | Path | IO[bytes]) -> None:
    """Headers (required ones marked *), one example row, and an instructions sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("导入模板")
    header = []
    for column in kind.columns:
        cell = _cell(sheet, f"{column.label}*" if column.required else column.label, bold=True)
        if column.required:
            cell.fill = _REQUIRED_FILL
        header.append(cell)
    sheet.append(header)
    sheet.append([_cell(sheet, column.example, text=True) for column in kind.columns])
    _instructions(workbook.create_sheet("填写说明"), kind)
    workbook.save(target)


def _instructions(sheet: Any, kind: type[ImportKind]) -> None:
    sheet.append([_cell(sheet, f"{kind.label}导入说明", bold=True)])
    for line in (
        "第一张表是导入模板：表头不要改动（可以使用下列“也可写作”中的名称），从第二行起填写数据，"
        "示例行请删除。",
        "身份证号、电话等编号列请设为“文本”格式，"
        "否则 Excel 会把 18 位号码改成科学计数法、丢失末几位。",
        "日期可写成 1958-03-02、1958.3.2、1958年3月2日，或使用 Excel 日期格式。",
        "带 * 的列必须填写。导入前会先试导入，列出每一行将新增、更新或被拒绝的原因。",
        *kind.instructions,
    ):
        sheet.append([_cell(sheet, line)])
    sheet.append([])
    sheet.append([_cell(sheet, t, bold=True) for t in ("列名", "必填", "也可写作", "说明", "示例")])
    for column in kind.columns:
        sheet.append(
            [
                _cell(sheet, column.label),
                _cell(sheet, "是" if column.required else "否"),
                _cell(sheet, "、".join(column.aliases)),
                _cell(sheet, column.help),
                _cell(sheet, column.example),
            ]
        )


ExportColumn = tuple[str, str]


def write_xlsx(
    target: str | Path | IO[bytes],
    *,
    rows_iterable: Iterable[Mapping[str, Any] | Sequence[Any]],
    columns: Sequence[ExportColumn],
    sheet_title: str = "导出数据",
) -> int:
    """Stream rows (dicts by key, or sequences in column order) into a workbook; row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    sheet.append([_cell(sheet, label, bold=True) for _key, label in columns])
    count = 0
    for row in rows_iterable:
        values = [row.get(key) for key, _l in columns] if isinstance(row, Mapping) else row
        sheet.append([_cell(sheet, v, text=isinstance(v, str)) for v in values])
        count += 1
    workbook.save(target)
    return count


def export_xlsx(
    *,
    rows_iterable: Iterable[Mapping[str, Any] | Sequence[Any]],
    columns: Sequence[ExportColumn],
    filename: str,
) -> FileResponse:
    """A download response for a list page; the caller scopes, masks and audits the rows."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_xlsx(spool, rows_iterable=rows_iterable, columns=columns)
    spool.seek(0)
    name = filename if filename.lower().endswith(".xlsx") else f"{filename}.xlsx"
    return FileResponse(spool, as_attachment=True, filename=name, content_type=XLSX_TYPE)
