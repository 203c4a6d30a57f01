"""Error values of the import engine.

Row problems are data, not exceptions: a street-office workbook always has some bad rows and
the user needs every one of them listed with its sheet row number. Only a file that cannot be
read at all raises `ImportFileError`, with a Chinese message fit to show on the page as is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Codes a kind may use; domain kinds add their own (e.g. unknown_grid, id_checksum).
MISSING_FIELD = "missing_field"
BAD_VALUE = "bad_value"
BAD_DATE = "bad_date"
BAD_NUMBER = "bad_number"
BAD_CHOICE = "bad_choice"
ID_MANGLED = "id_mangled"
DUPLICATE_IN_FILE = "duplicate_in_file"
DUPLICATE_IN_DB = "duplicate_in_db"


@dataclass(frozen=True, slots=True)
class RowError:
    """One reason a row is refused; `row` is the sheet's own row number (1-based)."""

    row: int
    column: str
    code: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class CellError(ValueError):
    """Raised by a column parser; the engine turns it into a `RowError` for that cell."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ImportFileError(Exception):
    """The file as a whole cannot be imported (wrong type, empty, too large, no header…)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}
