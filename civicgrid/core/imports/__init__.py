"""Generic Excel/CSV import and export engine (issue 4, "Excel in and out").

A domain app plugs in by subclassing `ImportKind` in its `imports.py` and decorating it with
`@register`; CoreConfig.ready() discovers those modules. See kinds.py for the interface,
engine.py for the batch pipeline and services.py for background jobs.
"""

from .engine import DEFAULT_BATCH_SIZE, BatchResult, ImportRun, Summary
from .errors import CellError, ImportFileError, RowError
from .kinds import (
    Column,
    ImportKind,
    KindFamily,
    PreparedRow,
    all_kinds,
    choice,
    get_kind,
    register,
    register_family,
    unregister,
)
from .normalize import clean_text, id_text, parse_date, parse_decimal, parse_int
from .readers import SheetRow, Table, open_table
from .workbooks import ErrorWorkbook, export_xlsx, template_workbook, write_xlsx

__all__ = [
    "DEFAULT_BATCH_SIZE", "BatchResult", "CellError", "Column", "ErrorWorkbook",
    "ImportFileError", "ImportKind", "ImportRun", "KindFamily", "PreparedRow", "RowError",
    "SheetRow", "Summary", "Table", "all_kinds", "choice", "clean_text", "export_xlsx",
    "get_kind", "id_text", "open_table", "parse_date", "parse_decimal", "parse_int", "register",
    "register_family", "template_workbook", "unregister", "write_xlsx",
]  # fmt: skip
