"""Reading .xlsx and .csv files as a stream of rows keyed by the kind's column names.

Street-office workbooks have title rows above the header, two-row headers under merged parent
cells, blank rows, and a signature line under the table. `open_table` finds the header by
matching the kind's column aliases, maps the columns, and `Table.rows()` yields one
`SheetRow` per data row with the sheet's real row number. Rows are produced one at a time
(only the header search buffers up to `HEADER_SCAN_ROWS` rows), so Python memory stays flat.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from django.conf import settings

from .errors import ImportFileError
from .kinds import ImportKind, header_keys
from .normalize import clean_text, is_blank
from .xlsx_stream import StreamingWorkbook

HEADER_SCAN_ROWS = 30
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# ~200k rows of a register; calamine holds such a sheet in ~150 MB.
STREAM_XLSX_BYTES = 10 * 1024 * 1024
_CHUNK = 1 << 20
_FOOTER = re.compile(
    r"^(填表人|填报人|填表|审核人|审核|审批人|制表人|制表日期|制表|填表日期|填报日期|负责人|"
    r"单位负责人|统计人|经办人|联系人|签字|签名|盖章|合计|总计|小计|注|备注|说明)\s*[:：]"
    r"|^(合计|总计|小计)$"
)
RawRow = tuple[int, list[Any]]


@dataclass(slots=True)
class SheetRow:
    """A data row: `values` by kind column name, `raw` every cell as read, in sheet order."""

    number: int
    values: dict[str, Any]
    raw: list[Any]


@dataclass
class Table:
    """A located table: header labels per sheet column and the column → kind-field map."""

    kind: type[ImportKind]
    header_row: int
    headers: list[str]
    mapping: dict[int, str]
    _rows: Iterator[RawRow] = field(repr=False)
    sheet_name: str = ""

    def header_for(self, name: str) -> str:
        """The header text the file uses for a kind column (for error messages)."""
        for index, mapped in self.mapping.items():
            if mapped == name:
                return self.headers[index]
        return self.kind.column(name).label

    def rows(self) -> Iterator[SheetRow]:
        """Data rows until the end of the table; blank rows skipped, footer lines end it."""
        required = [c.name for c in self.kind.required_columns()]
        for number, cells in self._rows:
            values = {name: _cell(cells, i) for i, name in self.mapping.items()}
            if all(is_blank(v) for v in values.values()):
                continue
            if _is_footer(cells) and not all(not is_blank(values[n]) for n in required):
                return
            yield SheetRow(number, values, list(cells))


def _cell(cells: list[Any], index: int) -> Any:
    return cells[index] if index < len(cells) else None


def _is_footer(cells: list[Any]) -> bool:
    first = next((c for c in cells if not is_blank(c)), None)
    return isinstance(first, str) and bool(_FOOTER.match(clean_text(first)))


# --- opening ------------------------------------------------------------------------------


def open_table(
    path: str | Path, kind: type[ImportKind], *, filename: str = "", max_bytes: int | None = -1
) -> Table:
    """Check the file and locate the kind's table in it, or raise `ImportFileError`."""
    path = Path(path)
    fmt = sniff_format(path, filename or path.name, max_bytes=max_bytes)
    if fmt == "csv":
        return locate_header(_csv_rows(path), kind)
    return _open_xlsx(path, kind)


def sniff_format(path: Path, filename: str, *, max_bytes: int | None = -1) -> str:
    """'xlsx' or 'csv' from extension and content; refuse anything else in plain Chinese."""
    limit = max_bytes
    if limit == -1:
        limit = getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError("empty_file", "文件是空的，请选择填好数据的 .xlsx 或 .csv 文件")
    if limit and size > limit:
        megabytes = limit // (1024 * 1024)
        raise ImportFileError("too_large", f"文件超过 {megabytes} MB 上限，请拆分成几个文件后导入")
    suffix = Path(filename).suffix.lower()
    head = path.open("rb").read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        message = "这是旧版 .xls 或加密的工作簿，请在 Excel 中“另存为” .xlsx（不设密码）后再导入"
        raise ImportFileError("old_xls", message)
    if head.startswith(b"PK\x03\x04"):
        return _check_xlsx(path, suffix)
    if suffix == ".csv" and b"\x00" not in path.open("rb").read(8192):
        return "csv"
    raise ImportFileError("bad_type", "只能导入 .xlsx 工作簿或 .csv 文件，请使用下载的模板")


def _check_xlsx(path: Path, suffix: str) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        names = set()
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        message = "文件不是有效的 .xlsx 工作簿（可能已损坏），请重新保存后导入"
        raise ImportFileError("bad_type", message)
    if suffix != ".xlsx":
        raise ImportFileError("bad_type", "文件内容是 Excel 工作簿，请把扩展名改为 .xlsx 后导入")
    return "xlsx"


# --- xlsx -----------------------------------------------------------------------------------


def _open_xlsx(path: Path, kind: type[ImportKind]) -> Table:
    """Try each visible sheet in order (an instructions sheet may come first).

    A workbook above IMPORT_STREAM_XLSX_BYTES streams from the worksheet XML (xlsx_stream),
    so memory stays flat however long the sheet; smaller ones go through python-calamine,
    which loads the whole sheet but reads ~9× faster (bench/registry_import_bench.py
    --readers). Calamine is also the fallback for XML the streaming reader cannot parse.
    """
    threshold = getattr(settings, "IMPORT_STREAM_XLSX_BYTES", STREAM_XLSX_BYTES)
    if path.stat().st_size <= threshold:
        return _open_xlsx_calamine(path, kind)
    try:
        workbook = StreamingWorkbook(str(path))
    except (KeyError, ValueError, IndexError, zipfile.BadZipFile, ParseError):
        return _open_xlsx_calamine(path, kind)
    last: ImportFileError | None = None
    for sheet in workbook.sheets:
        if not sheet.visible or not sheet.path:
            continue
        try:
            table = locate_header(workbook.rows(sheet), kind, spans=workbook.merged_spans(sheet))
        except ImportFileError as exc:
            last = exc
            continue
        except (KeyError, ValueError, IndexError, ParseError):
            return _open_xlsx_calamine(path, kind)
        table.sheet_name = sheet.name
        return table
    raise last or ImportFileError("no_header", "工作簿中没有工作表")


def _open_xlsx_calamine(path: Path, kind: type[ImportKind]) -> Table:
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, ValueError, OSError) as exc:
        raise ImportFileError("unreadable", f"工作簿无法读取：{exc}") from None
    last: ImportFileError | None = None
    for meta in workbook.sheets_metadata:
        if meta.visible != SheetVisibleEnum.Visible:
            continue
        sheet = workbook.get_sheet_by_name(meta.name)
        try:
            table = locate_header(_sheet_rows(sheet), kind, spans=_merged_spans(sheet))
        except ImportFileError as exc:
            last = exc
            continue
        table.sheet_name = meta.name
        return table
    raise last or ImportFileError("no_header", "工作簿中没有工作表")


def _sheet_rows(sheet: Any) -> Iterator[RawRow]:
    """(row number, cells) pairs; python-calamine pads leading empty rows in some versions."""
    start = sheet.start
    if start is None:
        return
    rows = sheet.iter_rows()
    first = next(rows, None)
    if first is None:
        return
    offset = 0 if (start[0] == 0 or all(is_blank(c) for c in first)) else start[0]
    for index, cells in enumerate(chain([first], rows)):
        yield offset + index + 1, cells


def _merged_spans(sheet: Any) -> dict[tuple[int, int], int]:
    """{(row number, first column index): last column index} of horizontal merges."""
    start = sheet.start or (0, 0)
    spans = {}
    for (r1, c1), (_r2, c2) in sheet.merged_cell_ranges or []:
        if c2 > c1:
            spans[(r1 + 1, c1 - start[1])] = c2 - start[1]
    return spans


# --- csv ------------------------------------------------------------------------------------


def _csv_rows(path: Path) -> Iterator[RawRow]:
    encoding = detect_encoding(path)
    handle = path.open("r", encoding=encoding, newline="")
    sample = handle.read(64 * 1024)
    handle.seek(0)
    reader = csv.reader(handle, delimiter=_sniff_delimiter(sample))
    return _numbered(reader, handle)


def _numbered(reader: Any, handle: io.TextIOBase) -> Iterator[RawRow]:
    with handle:
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise ImportFileError("bad_csv", f"CSV 文件格式有误：{exc}") from None


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030 (what Excel saves on Chinese Windows)."""
    with path.open("rb") as handle:
        if handle.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    raise ImportFileError("bad_encoding", "无法识别 CSV 文件的编码，请另存为“CSV UTF-8”后导入")


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _sniff_delimiter(sample: str) -> str:
    lines = sample.splitlines()[:30]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


# --- header ---------------------------------------------------------------------------------


def locate_header(
    rows: Iterator[RawRow], kind: type[ImportKind], *, spans: dict | None = None
) -> Table:
    """Find the header among the first rows: the first that names enough of the kind's columns.

    A header may span two rows (a merged parent cell over sub-columns); the two-row reading
    is used when it names more columns than the top row alone.
    """
    index = alias_index(kind)
    buffered: list[RawRow] = []
    for raw in rows:
        buffered.append(raw)
        if len(buffered) > HEADER_SCAN_ROWS + 1:
            break
    for pos, (number, cells) in enumerate(buffered[:HEADER_SCAN_ROWS]):
        mapping = match_header([clean_text(c) for c in cells], index)
        if not _enough(mapping, kind):
            continue
        below = buffered[pos + 1] if pos + 1 < len(buffered) else None
        headers, mapping, used = _maybe_two_rows(cells, below, mapping, index, spans or {}, number)
        _check_required(mapping, kind)
        rest = chain(buffered[pos + 1 + used :], rows)
        return Table(kind, number + used, headers, mapping, rest)
    raise _no_header(kind, any(not is_blank(c) for _n, cells in buffered for c in cells))


def alias_index(kind: type[ImportKind]) -> dict[str, str]:
    index: dict[str, str] = {}
    for column in kind.columns:
        for name in column.header_names():
            for key in header_keys(name):
                index.setdefault(key, column.name)
    return index


def match_header(labels: list[str], index: dict[str, str]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for pos, label in enumerate(labels):
        name = next((index[k] for k in header_keys(label) if k in index), None)
        if name and name not in mapping.values():
            mapping[pos] = name
    return mapping


def _enough(mapping: dict[int, str], kind: type[ImportKind]) -> bool:
    found = set(mapping.values())
    required = {c.name for c in kind.required_columns()}
    half = max(2, math.ceil(len(kind.columns) / 2)) if len(kind.columns) > 1 else 1
    return bool(found) and (required <= found or len(found) >= half)


def _maybe_two_rows(cells, below, mapping, index, spans, number):
    """(headers, mapping, extra rows used): read `below` as sub-headers if that names more."""
    top = [clean_text(c) for c in cells]
    if below is None:
        return top, mapping, 0
    if any(not isinstance(c, str) for c in below[1] if not is_blank(c)):
        return top, mapping, 0  # numbers or dates: a data row, not sub-headers
    sub = [clean_text(c) for c in below[1]]
    parents = _parents(top, sub, spans, number)
    children = _pad(sub, len(parents))
    two, from_children = {}, 0
    for pos, (parent, child) in enumerate(zip(parents, children, strict=True)):
        for label in (child, _join(parent, child).replace("/", ""), parent):
            hit = match_header([label], index).get(0) if label else None
            if hit and hit not in two.values():
                two[pos] = hit
                from_children += bool(child) and label != parent
                break
    if from_children and len(two) > len(mapping):
        return [_join(p, c) for p, c in zip(parents, children, strict=True)], two, 1
    return top, mapping, 0


def _parents(top: list[str], sub: list[str], spans: dict, number: int) -> list[str]:
    """Top-row labels carried across merged (or visibly grouped) parent cells."""
    width = max(len(top), len(sub))
    parents = _pad(top, width)
    for (row, first), last in spans.items():
        if row == number and first < width:
            for pos in range(first + 1, min(last, width - 1) + 1):
                parents[pos] = parents[first]
    subs = _pad(sub, width)
    for pos in range(1, width):
        if not parents[pos] and subs[pos] and subs[pos - 1]:
            parents[pos] = parents[pos - 1]
    return parents


def _pad(values: list[str], width: int) -> list[str]:
    return list(values) + [""] * (width - len(values))


def _join(parent: str, child: str) -> str:
    if parent and child and parent != child:
        return f"{parent}/{child}"
    return parent or child


def _check_required(mapping: dict[int, str], kind: type[ImportKind]) -> None:
    found = set(mapping.values())
    missing = [c for c in kind.required_columns() if c.name not in found]
    if missing:
        names = "；".join(_describe(c) for c in missing)
        raise ImportFileError("missing_column", f"表头缺少必填列：{names}")


def _describe(column: Any) -> str:
    others = [a for a in column.aliases if a != column.label]
    return f"{column.label}（也可写作 {'、'.join(others)}）" if others else column.label


def _no_header(kind: type[ImportKind], has_rows: bool) -> ImportFileError:
    if not has_rows:
        return ImportFileError("empty_file", "文件中没有数据")
    expected = "、".join(c.label for c in kind.columns)
    message = f"在前 {HEADER_SCAN_ROWS} 行中没有找到表头，表头应包含：{expected}。请使用下载的模板"
    return ImportFileError("no_header", message)
