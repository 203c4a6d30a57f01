"""The import pipeline: validate rows, find duplicates, classify, and apply in batches.

One code path serves the dry run and the real run so that what the dry run promises is what
the import does. Batches are the unit of work: one `lookup_existing` query, one
`validate_batch`, and when applying one `transaction.atomic()` that also carries the
caller's checkpoint (so a crash leaves no half batch and a re-run resumes after the last
committed one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db import transaction

from .errors import DUPLICATE_IN_FILE, RowError
from .kinds import ImportKind, PreparedRow
from .readers import SheetRow, Table
from .seen import SeenKeys

DEFAULT_BATCH_SIZE = 500
ErrorSink = Callable[[SheetRow, list[RowError]], None]


@dataclass
class BatchResult:
    """What one batch did; handed to the checkpoint callback inside the batch transaction."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    refused: int = 0
    next_row: int = 0
    errors: list[tuple[SheetRow, list[RowError]]] = field(default_factory=list)


@dataclass
class Summary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    refused: int = 0
    errors: list[RowError] = field(default_factory=list)
    max_errors: int | None = None
    errors_truncated: bool = False

    def add(self, batch: BatchResult) -> None:
        self.rows += batch.rows
        self.created += batch.created
        self.updated += batch.updated
        self.refused += batch.refused
        for _row, errors in batch.errors:
            for error in errors:
                if self.max_errors is None or len(self.errors) < self.max_errors:
                    self.errors.append(error)
                else:
                    self.errors_truncated = True

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "refused": self.refused,
            "errors": [e.as_dict() for e in self.errors],
        }
        if self.errors_truncated:
            data["errors_truncated"] = True
        return data


def batched(rows: Iterable[SheetRow], size: int) -> Iterator[list[SheetRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class ImportRun:
    """One pass over a table. `apply=False` is the dry run: nothing is written.

    `resume_from` is a sheet row number: rows before it were committed by an earlier run and
    only feed the duplicate-in-file check. `on_batch(result)` runs inside each batch's
    transaction when applying (the job's checkpoint), after it when dry-running.

    Memory does not grow with the file: the keys seen so far live in `SeenKeys` (digests in a
    temporary SQLite file), refused rows go to `on_error` as they come, and the summary keeps
    at most `max_errors` of them.
    """

    def __init__(
        self,
        kind: ImportKind,
        table: Table,
        *,
        apply: bool = False,
        actor: Any = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        resume_from: int = 0,
        on_batch: Callable[[BatchResult], None] | None = None,
        on_error: ErrorSink | None = None,
        max_errors: int | None = None,
    ) -> None:
        self.kind, self.table, self.apply, self.actor = kind, table, apply, actor
        self.batch_size, self.resume_from = batch_size, resume_from
        self.on_batch, self.on_error = on_batch, on_error
        self.summary = Summary(max_errors=max_errors)
        self.seen: SeenKeys | None = None

    def run(self) -> Summary:
        self.seen = SeenKeys()
        try:
            for batch in batched(self.table.rows(), self.batch_size):
                fresh = [r for r in batch if r.number >= self.resume_from]
                done = batch[: len(batch) - len(fresh)]
                if done:  # committed earlier: only remember their keys
                    self._mark_duplicates([self._prepare(row) for row in done])
                if fresh:
                    self._run_batch(fresh)
        finally:
            self.seen.close()
        return self.summary

    def _run_batch(self, batch: list[SheetRow]) -> None:
        prepared = [self._prepare(row) for row in batch]
        self._mark_duplicates(prepared)
        if self.apply:
            with transaction.atomic():
                result = self._classify_and_apply(batch, prepared)
                if self.on_batch:
                    self.on_batch(result)
        else:
            result = self._classify_and_apply(batch, prepared)
            if self.on_batch:
                self.on_batch(result)
        self.summary.add(result)
        if self.on_error:
            for sheet_row, errors in result.errors:
                self.on_error(sheet_row, errors)

    def _prepare(self, row: SheetRow) -> PreparedRow:
        cleaned, errors = self.kind.validate_row(row.values, row.number)
        prepared = PreparedRow(row.number, cleaned, errors=list(errors))
        if not errors:
            prepared.key = self.kind.natural_key(cleaned)
        return prepared

    def _mark_duplicates(self, rows: list[PreparedRow]) -> None:
        """Refuse a valid row whose key an earlier row of the file had (batch by batch)."""
        keyed = [r for r in rows if r.key is not None and not r.errors]
        if not keyed or self.seen is None:
            return
        firsts = self.seen.add([(r.key, r.number) for r in keyed])
        column = self.kind.key_column()
        for row, first in zip(keyed, firsts, strict=True):
            if first is not None:
                message = f"与第 {first} 行重复（{row.key}）"
                row.errors.append(RowError(row.number, column, DUPLICATE_IN_FILE, message))

    def _classify_and_apply(self, batch: list[SheetRow], rows: list[PreparedRow]) -> BatchResult:
        valid = [r for r in rows if not r.errors]
        if valid:
            self.kind.validate_batch(valid)
            self._attach_existing([r for r in valid if not r.errors])
        accepted = [r for r in rows if not r.errors]
        if self.apply and accepted:
            self.kind.apply_batch(accepted, self.actor)
        return self._result(batch, rows, accepted)

    def _attach_existing(self, rows: list[PreparedRow]) -> None:
        keys = [r.key for r in rows if r.key is not None]
        existing = self.kind.lookup_existing(keys) if keys else {}
        for row in rows:
            if row.key is not None and row.key in existing:
                row.existing = existing[row.key]
                row.errors.extend(self.kind.check_existing(row))

    def _result(
        self, batch: list[SheetRow], rows: list[PreparedRow], accepted: list[PreparedRow]
    ) -> BatchResult:
        updated = sum(1 for r in accepted if r.is_update)
        refused = [(s, p.errors) for s, p in zip(batch, rows, strict=True) if p.errors]
        return BatchResult(
            rows=len(rows),
            created=len(accepted) - updated,
            updated=updated,
            refused=len(refused),
            next_row=batch[-1].number + 1,
            errors=refused,
        )
