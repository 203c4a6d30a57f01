"""`manage.py registry_import KIND FILE [--dry-run] [--user USERNAME]`: import from the shell.

Prints the JSON summary `{rows, created, updated, refused, errors: [{row, column, code,
message}]}` with the sheet's own row numbers. A file that cannot be read exits with status 2
and a JSON error on stderr; refused rows are data, not failure (exit 0).

Refused rows are spooled to a temporary file as the batches go and streamed into the JSON at
the end, so a million-row file with many bad rows does not hold its error list in memory.
"""

from __future__ import annotations

import json
import tempfile
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.context import acting_as
from civicgrid.core.imports import (
    DEFAULT_BATCH_SIZE,
    ImportFileError,
    ImportRun,
    RowError,
    SheetRow,
    Summary,
    open_table,
)
from civicgrid.core.imports.kinds import all_kinds, get_kind


class Command(BaseCommand):
    help = "Import an .xlsx or .csv file as KIND (dry run with --dry-run); prints a JSON summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", help="import kind, e.g. person")
        parser.add_argument("file", help="path to an .xlsx or .csv file")
        parser.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
        parser.add_argument("--user", help="username recorded as the actor")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            kind_cls = get_kind(options["kind"])
        except LookupError:
            known = ", ".join(sorted(all_kinds())) or "-"
            raise CommandError(f"unknown kind {options['kind']!r} (known: {known})") from None
        actor = self._user(options.get("user"))
        try:
            table = open_table(options["file"], kind_cls, max_bytes=None)
        except (ImportFileError, OSError) as exc:
            self._unreadable(exc)
        with tempfile.TemporaryFile("w+", encoding="utf-8") as spool, acting_as(actor):

            def spill(_row: SheetRow, errors: list[RowError]) -> None:
                for error in errors:
                    spool.write(json.dumps(error.as_dict(), ensure_ascii=False) + "\n")

            run = ImportRun(
                kind_cls(actor=actor), table, apply=not options["dry_run"], actor=actor,
                batch_size=options["batch_size"], on_error=spill, max_errors=0,
            )  # fmt: skip
            summary = run.run()
            self._write_summary(summary, spool)

    def _write_summary(self, summary: Summary, spool: IO[str]) -> None:
        """The summary's JSON with the spooled errors streamed into its `errors` list."""
        counts = {
            k: v for k, v in summary.as_dict().items() if k not in ("errors", "errors_truncated")
        }
        out = self.stdout
        out.write("{", ending="\n")
        for key, value in counts.items():
            out.write(f"  {json.dumps(key)}: {json.dumps(value)},", ending="\n")
        spool.seek(0)
        first = spool.readline()
        if not first:
            out.write('  "errors": []', ending="\n")
        else:
            out.write('  "errors": [', ending="\n")
            for line in spool:
                out.write(f"    {first.rstrip()},", ending="\n")
                first = line
            out.write(f"    {first.rstrip()}", ending="\n")
            out.write("  ]", ending="\n")
        out.write("}", ending="\n")

    def _user(self, username: str | None) -> Any:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        return user

    def _unreadable(self, exc: Exception) -> None:
        if isinstance(exc, ImportFileError):
            error = exc.as_dict()
        else:
            error = {"code": "unreadable", "message": f"无法打开文件：{exc}"}
        self.stderr.write(json.dumps({"error": error}, ensure_ascii=False))
        raise CommandError(error["message"], returncode=2)
