"""Import kinds: what a domain app implements to plug a record type into the engine.

The engine knows nothing about people or buildings. A domain app subclasses `ImportKind` in
its `imports.py`, decorates it with `@register`, and CoreConfig.ready() discovers it. The
engine then streams rows, calls `validate_row` per row, `validate_batch` and
`lookup_existing` once per batch (never one query per row), and `apply_batch` inside the
batch's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .errors import BAD_CHOICE, BAD_VALUE, DUPLICATE_IN_DB, MISSING_FIELD, CellError, RowError
from .normalize import clean_text, is_blank

Parser = Callable[[Any], Any]


@dataclass(frozen=True)
class Column:
    """One column of a kind: `label` is the template header, `aliases` what offices write."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    parser: Parser = clean_text
    example: Any = ""
    help: str = ""

    def header_names(self) -> tuple[str, ...]:
        return (self.label, self.name, *self.aliases)


@dataclass(slots=True)
class PreparedRow:
    """A row that passed validation: `existing` is what `lookup_existing` found for its key."""

    number: int
    cleaned: dict[str, Any]
    key: Hashable | None = None
    existing: Any = None
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_update(self) -> bool:
        return self.existing is not None


def choice(mapping: dict[str, Any]) -> Parser:
    """Parser for a fixed set of answers (`{"男": "M", "女": "F"}`), matched after cleaning."""

    def parse(value: Any) -> Any:
        text = clean_text(value)
        if text in mapping:
            return mapping[text]
        allowed = "、".join(mapping)
        raise CellError(BAD_CHOICE, f"“{text}”不是可选值（可选：{allowed}）")

    return parse


_HEADER_NOISE = re.compile(r"[\s\u3000\u00a0*＊:：]+")
_BRACKETS = re.compile(r"[（(【\[].*?[）)】\]]")


def header_key(text: Any) -> str:
    """Normalised header text: no spaces, no required-star, no colon, lower case."""
    return _HEADER_NOISE.sub("", clean_text(text)).lower()


def header_keys(text: Any) -> tuple[str, ...]:
    """Header spellings to try: as written, without bracketed hints (出生日期（yyyy-mm-dd）),
    and for a joined "parent/child" label (our own error workbooks) the child alone."""
    full = header_key(text)
    bare = header_key(_BRACKETS.sub("", clean_text(text)))
    keys = [full, bare, full.replace("/", ""), full.rsplit("/", 1)[-1]]
    return tuple(dict.fromkeys(k for k in keys if k))


class ImportKind:
    """Base class of an importable record type. Instances live for one import run.

    Subclasses set `name`, `label`, `columns` and implement `natural_key`, `lookup_existing`
    and `apply_batch`; they usually extend `validate_row` (call super() first) with checks
    that span columns, and may override `validate_batch` for checks that need one query per
    batch (e.g. unknown grid codes). Instance attributes may cache look-ups for the run.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    columns: ClassVar[tuple[Column, ...]] = ()
    # Rows whose key already exists: update them (True) or refuse with duplicate_in_db (False).
    update_existing: ClassVar[bool] = True
    instructions: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, actor: Any = None) -> None:
        self.actor = actor

    # --- per row ------------------------------------------------------------------------
    def validate_row(self, row: dict[str, Any], number: int) -> tuple[dict[str, Any], list]:
        """Parse every column; return the cleaned values and the row's errors."""
        cleaned: dict[str, Any] = {}
        errors: list[RowError] = []
        for column in self.columns:
            raw = row.get(column.name)
            if is_blank(raw):
                cleaned[column.name] = None
                if column.required:
                    message = f"“{column.label}”必须填写"
                    errors.append(RowError(number, column.label, MISSING_FIELD, message))
                continue
            try:
                cleaned[column.name] = column.parser(raw)
            except CellError as exc:
                errors.append(RowError(number, column.label, exc.code, exc.message))
            except (ValueError, TypeError) as exc:
                errors.append(RowError(number, column.label, BAD_VALUE, str(exc)))
        return cleaned, errors

    def natural_key(self, cleaned: dict[str, Any]) -> Hashable | None:
        """The value that identifies a record (e.g. the ID number); None: no duplicate check."""
        return None

    def key_column(self) -> str:
        """Column label named in duplicate errors."""
        return self.columns[0].label if self.columns else ""

    # --- per batch ----------------------------------------------------------------------
    def validate_batch(self, rows: list[PreparedRow]) -> None:
        """Checks that need the database, one query per batch; append to `row.errors`."""

    def lookup_existing(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        """Existing records by natural key for the whole batch, in one query."""
        return {}

    def check_existing(self, row: PreparedRow) -> list[RowError]:
        """Errors for a row whose key exists; default per `update_existing`."""
        if self.update_existing:
            return []
        message = f"数据库中已有相同记录（{row.key}）"
        return [RowError(row.number, self.key_column(), DUPLICATE_IN_DB, message)]

    def apply_batch(self, rows: list[PreparedRow], actor: Any) -> None:
        """Create or update the batch through the domain's services (inside a transaction)."""
        raise NotImplementedError

    # --- helpers ------------------------------------------------------------------------
    @classmethod
    def column(cls, name: str) -> Column:
        return next(c for c in cls.columns if c.name == name)

    @classmethod
    def required_columns(cls) -> list[Column]:
        return [c for c in cls.columns if c.required]


_REGISTRY: dict[str, type[ImportKind]] = {}


def register(kind: type[ImportKind]) -> type[ImportKind]:
    """Class decorator: make a kind available to pages, tasks and `registry_import`."""
    if not kind.name:
        raise ValueError("an import kind needs a name")
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


@dataclass(frozen=True)
class KindFamily:
    """Kinds defined by data, not code (one per work-area record type): `build(code)` makes
    the kind `<prefix>:<code>` or raises LookupError; `codes()` lists the current ones."""

    prefix: str
    build: Callable[[str], type[ImportKind]]
    codes: Callable[[], Iterable[str]]


_FAMILIES: dict[str, KindFamily] = {}


def register_family(family: KindFamily) -> KindFamily:
    _FAMILIES[family.prefix] = family
    return family


def get_kind(name: str) -> type[ImportKind]:
    if name in _REGISTRY:
        return _REGISTRY[name]
    prefix, _sep, code = name.partition(":")
    if code and prefix in _FAMILIES:
        return _FAMILIES[prefix].build(code)
    raise LookupError(f"unknown import kind {name!r}; known: {sorted(_REGISTRY)}")


def all_kinds() -> dict[str, type[ImportKind]]:
    """Registered kinds, then each family's current members (one query per family)."""
    kinds = dict(_REGISTRY)
    for family in _FAMILIES.values():
        for code in family.codes():
            kinds[f"{family.prefix}:{code}"] = family.build(code)
    return kinds
