"""Verify the audit hash chain; exit status 1 when any row was changed or removed."""

import sys

from django.core.management.base import BaseCommand

from civicgrid.core.audit import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the append-only audit log's hash chain (exit 1 on tampering)."

    def handle(self, *args, **options):
        checked, problems = audit_verify_chain()
        for p in problems:
            self.stderr.write(f"seq {p.seq}: {p.problem}")
        if problems:
            self.stderr.write(self.style.ERROR(f"audit chain BROKEN: {len(problems)} problem(s)"))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {checked} rows verified"))
