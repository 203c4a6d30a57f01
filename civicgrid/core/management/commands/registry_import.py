"""`manage.py registry_import KIND FILE [--dry-run] [--user USERNAME]`: import from the shell.

Prints the JSON summary `{rows, created, updated, refused, errors: [{row, column, code,
message}]}` with the sheet's own row numbers. A file that cannot be read exits with status 2
and a JSON error on stderr; refused rows are data, not failure (exit 0).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.context import acting_as
from civicgrid.core.imports import DEFAULT_BATCH_SIZE, ImportFileError, ImportRun, open_table
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
        with acting_as(actor):
            run = ImportRun(
                kind_cls(actor=actor), table, apply=not options["dry_run"], actor=actor,
                batch_size=options["batch_size"],
            )  # fmt: skip
            summary = run.run()
        self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))

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
