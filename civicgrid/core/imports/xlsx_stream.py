"""A streaming .xlsx reader: rows straight from the worksheet XML inside the zip.

python-calamine loads a whole sheet into memory before the first row comes out (711 MB peak
for a million people), and openpyxl's read-only mode streams but is several times slower.
This reader walks the worksheet with `xml.etree.ElementTree.iterparse`, freeing each row
once it is yielded, so memory stays flat however long the sheet is. It loads the shared
strings once (they are what a register repeats: grid codes, sexes, categories), reads inline
strings, and turns numbers in date-formatted cells into dates using the styles' number
formats, as Excel itself does.

Shared strings are not only the repeated ones: Excel and openpyxl put every text cell there,
so a register of a million people has about three million of them (names, ID numbers, phone
numbers), ~250 MB as Python strings. `SharedStrings` keeps the first `SPILL_STRINGS` in memory
(the repeated ones come first, in order of first use) and writes the rest to a temporary file,
keeping only their end offsets (8 bytes each) and reading each back with one `os.pread`.
"""

from __future__ import annotations

import os
import posixpath
import re
import tempfile
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import iterparse

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Built-in number formats that show dates or times (ECMA-376 §18.8.30, plus the CJK ones).
DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_DATE_CHARS = re.compile(r"[ymdhsYMDHS年月日]")
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)
_CHUNK = 1 << 20
SPILL_STRINGS = 50_000


@dataclass(frozen=True)
class SheetInfo:
    name: str
    path: str
    visible: bool


def column_index(letters: str) -> int:
    """`A` → 0, `AB` → 27."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


class StreamingWorkbook:
    """An open .xlsx: sheet list, shared strings and date styles; rows read on demand."""

    def __init__(self, path: str) -> None:
        self.archive = zipfile.ZipFile(path)
        self.sheets, self.date1904 = self._workbook()
        self.strings = self._shared_strings()
        self.date_styles = self._date_styles()

    # --- workbook parts ------------------------------------------------------------------
    def _workbook(self) -> tuple[list[SheetInfo], bool]:
        targets = {}
        rels = "xl/_rels/workbook.xml.rels"
        if rels in self.archive.namelist():
            for _e, el in iterparse(self.archive.open(rels)):
                if el.tag == f"{PKG_REL}Relationship":
                    targets[el.get("Id")] = _resolve(el.get("Target", ""))
        sheets, date1904 = [], False
        for _e, el in iterparse(self.archive.open("xl/workbook.xml")):
            if el.tag == f"{MAIN}workbookPr":
                date1904 = el.get("date1904") in ("1", "true")
            elif el.tag == f"{MAIN}sheet":
                target = targets.get(el.get(f"{REL}id"), "")
                visible = el.get("state", "visible") == "visible"
                sheets.append(SheetInfo(el.get("name", ""), target, visible))
        return sheets, date1904

    def close(self) -> None:
        self.archive.close()
        self.strings.close()

    def _shared_strings(self) -> SharedStrings:
        strings = SharedStrings()
        if "xl/sharedStrings.xml" not in self.archive.namelist():
            return strings
        root = None
        with self.archive.open("xl/sharedStrings.xml") as handle:
            for event, el in iterparse(handle, events=("start", "end")):
                if event == "start":
                    root = el if root is None else root
                elif el.tag == f"{MAIN}si":
                    strings.append(_text_of(el))
                    root.clear()  # drop the parsed <si>: the tree does not grow
        strings.finish()
        return strings

    def _date_styles(self) -> frozenset[int]:
        if "xl/styles.xml" not in self.archive.namelist():
            return frozenset()
        custom: dict[int, str] = {}
        xfs: list[int] = []
        in_cell_xfs = False
        for event, el in iterparse(self.archive.open("xl/styles.xml"), events=("start", "end")):
            if el.tag == f"{MAIN}cellXfs":
                in_cell_xfs = event == "start"
            elif event == "end" and el.tag == f"{MAIN}numFmt":
                custom[int(el.get("numFmtId", "0"))] = el.get("formatCode", "")
            elif event == "end" and el.tag == f"{MAIN}xf" and in_cell_xfs:
                xfs.append(int(el.get("numFmtId", "0")))
        return frozenset(i for i, fmt in enumerate(xfs) if _is_date_format(fmt, custom))

    # --- rows -----------------------------------------------------------------------------
    def merged_spans(self, sheet: SheetInfo) -> dict[tuple[int, int], int]:
        """{(row number, first column): last column} of horizontal merges, by a byte scan
        (the merge list sits after the data; parsing the XML twice would double the cost)."""
        spans: dict[tuple[int, int], int] = {}
        tail = b""
        with self.archive.open(sheet.path) as handle:
            while chunk := handle.read(_CHUNK):
                data = tail + chunk
                for m in _MERGE.finditer(data):
                    first, last = (
                        column_index(m.group(1).decode()),
                        column_index(m.group(3).decode()),
                    )
                    if last > first:
                        spans[(int(m.group(2)), first)] = last
                tail = data[-200:]
        return spans

    def rows(self, sheet: SheetInfo) -> Iterator[tuple[int, list[Any]]]:
        """(sheet row number, cells from column A) for every row present in the XML."""
        row_tag, cell_tag, data_tag = f"{MAIN}row", f"{MAIN}c", f"{MAIN}sheetData"
        with self.archive.open(sheet.path) as handle:
            parent = None
            expected = 1
            for event, el in iterparse(handle, events=("start", "end")):
                if event == "start":
                    if el.tag == data_tag:
                        parent = el
                    continue
                if el.tag != row_tag:
                    continue
                number = int(el.get("r") or expected)
                expected = number + 1
                cells = [self._cell(c) for c in el.iter(cell_tag)]
                if parent is not None:
                    parent.clear()  # drop the rows already yielded: memory stays flat
                yield number, _place(cells)

    def _cell(self, c: Any) -> tuple[int | None, Any]:
        ref = c.get("r")
        column = column_index(_CELL_REF.match(ref).group(1)) if ref else None
        kind = c.get("t", "n")
        if kind == "inlineStr":
            node = c.find(f"{MAIN}is")
            return column, _text_of(node) if node is not None else ""
        raw = c.findtext(f"{MAIN}v")
        if raw is None:
            return column, None
        if kind == "s":
            return column, self.strings[int(raw)]
        if kind == "b":
            return column, raw == "1"
        if kind in ("str", "e"):
            return column, raw
        return column, self._number(raw, c.get("s"))

    def _number(self, raw: str, style: str | None) -> Any:
        number: int | float = int(raw) if raw.lstrip("-").isdigit() else float(raw)
        if style is not None and int(style) in self.date_styles:
            return self._date(float(number))
        return number

    def _date(self, serial: float) -> date | datetime:
        epoch = _EPOCH_1904 if self.date1904 else _EPOCH_1900
        moment = epoch + timedelta(days=serial)
        if serial == int(serial):
            return moment.date()
        return moment


class SharedStrings:
    """The shared string table by index: a list up to SPILL_STRINGS, a temporary file past it."""

    def __init__(self, spill_after: int | None = None) -> None:
        self.head: list[str] = []
        self.limit = SPILL_STRINGS if spill_after is None else spill_after
        self.spool: Any = None
        self.ends = array("Q")

    def append(self, text: str) -> None:
        if len(self.head) < self.limit:
            self.head.append(text)
            return
        if self.spool is None:
            self.spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.spool.write(text.encode())
        self.ends.append(self.spool.tell())

    def finish(self) -> None:
        """Flush the spilled strings so `os.pread` sees them."""
        if self.spool is not None:
            self.spool.flush()

    def __len__(self) -> int:
        return len(self.head) + len(self.ends)

    def __getitem__(self, index: int) -> str:
        if 0 <= index < len(self.head):
            return self.head[index]
        tail = index - len(self.head)
        if not 0 <= tail < len(self.ends):
            raise IndexError(f"shared string {index} does not exist")
        start = self.ends[tail - 1] if tail else 0
        return os.pread(self.spool.fileno(), self.ends[tail] - start, start).decode()

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None


def _resolve(target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join("xl", target))


def _text_of(el: Any) -> str:
    """Text of a shared or inline string: the <t> runs, without phonetic (<rPh>) hints."""
    parts = []
    for child in el:
        if child.tag == f"{MAIN}t":
            parts.append(child.text or "")
        elif child.tag == f"{MAIN}r":
            parts.append(child.findtext(f"{MAIN}t") or "")
    return "".join(parts)


def _is_date_format(fmt_id: int, custom: dict[int, str]) -> bool:
    if fmt_id in DATE_FORMAT_IDS:
        return True
    code = custom.get(fmt_id)
    if not code:
        return False
    return bool(_DATE_CHARS.search(_QUOTED.sub("", code.split(";")[0])))


def _place(cells: list[tuple[int | None, Any]]) -> list[Any]:
    """Cells at their column positions (XML omits empty cells)."""
    out: list[Any] = []
    for column, value in cells:
        position = len(out) if column is None else column
        if position >= len(out):
            out.extend([None] * (position - len(out) + 1))
        out[position] = value
    return out
