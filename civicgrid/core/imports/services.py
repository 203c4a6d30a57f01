"""Import jobs: upload, dry run, background run in checkpointed batches, resume, cancel.

Every write to an `ImportJob` goes through here. The background run is a django-tasks task
enqueued in `transaction.on_commit`; each batch commits together with the job's checkpoint
(`next_row`, counts, error-log size), so a crash or restart leaves the job exactly at the
last committed batch and `import_job_resume` continues from there.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..audit import audit_record
from ..context import acting_as
from ..models import AuditAction, ImportJob, ImportStatus
from .engine import BatchResult, ImportRun, Summary
from .errors import ImportFileError, RowError
from .kinds import get_kind
from .readers import SheetRow, Table, open_table
from .workbooks import ErrorWorkbook

logger = logging.getLogger(__name__)
SUMMARY_MAX_ERRORS = 1000
_STARTABLE = (ImportStatus.PENDING, ImportStatus.DRY_RUN_DONE)


class ImportJobConflict(Exception):
    """The job is not in a state that allows the requested step."""


class _Stopped(Exception):
    """The job left the running state (cancelled) while a batch was in flight."""


def import_job_create(*, kind: str, uploaded_file: Any, user: Any) -> ImportJob:
    """Store the upload under MEDIA_ROOT/imports/ after checking type, size and header."""
    kind_cls = get_kind(kind)
    original = Path(getattr(uploaded_file, "name", "") or "upload").name
    limit = getattr(settings, "IMPORT_MAX_BYTES", 50 * 1024 * 1024)
    if limit and getattr(uploaded_file, "size", 0) > limit:
        megabytes = limit // (1024 * 1024)
        raise ImportFileError("too_large", f"文件超过 {megabytes} MB 上限，请拆分成几个文件后导入")
    job = ImportJob(kind=kind, original_name=original[:255], created_by_id=_pk(user))
    job.file.save(f"{uuid.uuid4().hex}{Path(original).suffix.lower()[:8]}", uploaded_file, False)
    try:
        open_table(job.file.path, kind_cls, filename=original)
    except ImportFileError:
        job.file.delete(save=False)
        raise
    with transaction.atomic():
        job.save()
        audit_record(action=AuditAction.CREATE, obj=job, actor=user, changes={"file": original})
    return job


def import_job_dry_run(*, job: ImportJob) -> dict[str, Any]:
    """Validate every row without writing; store the summary and the error workbook."""
    if job.status not in _STARTABLE:
        raise ImportJobConflict(f"job {job.pk} is {job.status}")
    kind_cls = get_kind(job.kind)
    try:
        table = _open(job)
    except ImportFileError as exc:
        _fail(job, exc.message)
        raise
    errors = ErrorWorkbook(table.headers)
    run = ImportRun(
        kind_cls(actor=_actor(job)), table, batch_size=job.batch_size,
        on_error=errors.add, max_errors=SUMMARY_MAX_ERRORS,
    )  # fmt: skip
    summary = run.run()
    _save_report(job, errors, "dry")
    job.total_rows, job.dry_run_summary = summary.rows, summary.as_dict()
    job.status = ImportStatus.DRY_RUN_DONE
    job.save()
    return job.dry_run_summary


def import_job_start(*, job: ImportJob) -> ImportJob:
    """Move a pending or dry-run job to running and enqueue the background run on commit."""
    return _to_running(job, allowed=_STARTABLE, started=True)


def import_job_resume(*, job: ImportJob) -> ImportJob:
    """Continue a failed (or stalled running) job from its last committed batch."""
    stale = timezone.now() - timedelta(seconds=getattr(settings, "IMPORT_STALE_SECONDS", 300))
    job.refresh_from_db()
    if job.status == ImportStatus.RUNNING and job.updated_at > stale:
        raise ImportJobConflict(f"job {job.pk} is still running")
    return _to_running(job, allowed=(ImportStatus.FAILED, ImportStatus.RUNNING), started=False)


def import_job_cancel(*, job: ImportJob) -> ImportJob:
    """Stop a job; a batch in flight is rolled back, committed batches stay."""
    allowed = (*_STARTABLE, ImportStatus.RUNNING, ImportStatus.FAILED)
    changed = ImportJob.objects.filter(pk=job.pk, status__in=allowed).update(
        status=ImportStatus.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now()
    )
    if not changed:
        raise ImportJobConflict(f"job {job.pk} cannot be cancelled")
    job.refresh_from_db()
    return job


def _to_running(job: ImportJob, *, allowed: tuple, started: bool) -> ImportJob:
    now = timezone.now()
    fields: dict[str, Any] = {"status": ImportStatus.RUNNING, "updated_at": now, "message": ""}
    if started:
        fields["started_at"] = now
    with transaction.atomic():
        if not ImportJob.objects.filter(pk=job.pk, status__in=allowed).update(**fields):
            raise ImportJobConflict(f"job {job.pk} cannot run from {job.status}")
        transaction.on_commit(lambda: _enqueue(job.pk))
    job.refresh_from_db()
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import run_import_job

    run_import_job.enqueue(job_id)


# --- the background run ---------------------------------------------------------------------


def import_job_execute(job_id: int) -> None:
    """Body of the background task: run the remaining batches of a running job."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportStatus.RUNNING:
        return
    actor = _actor(job)
    with acting_as(actor):
        try:
            _execute(job, actor)
        except _Stopped:
            return
        except ImportFileError as exc:
            _fail(job, exc.message)
        except Exception as exc:  # a batch failed: it was rolled back, the job can resume
            logger.exception("import job %s failed", job.pk)
            _fail(job, f"第 {job.next_row or 1} 行起的一批数据导入失败：{exc}")


def _execute(job: ImportJob, actor: Any) -> None:
    if job.total_rows is None:
        job.total_rows = sum(1 for _ in _open(job).rows())
        ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
    table = _open(job)
    log = ErrorLog(job)
    run = ImportRun(
        get_kind(job.kind)(actor=actor), table, apply=True, actor=actor,
        batch_size=job.batch_size, resume_from=job.next_row,
        on_batch=lambda result: _checkpoint(job, result, log),
    )  # fmt: skip
    run.run()
    report = log.workbook(table)
    _save_report(job, report, "final")
    _finish(job)


def _checkpoint(job: ImportJob, result: BatchResult, log: ErrorLog) -> None:
    """Inside the batch's transaction: advance the job, or roll back if it was cancelled."""
    size = log.append(result.errors)
    changed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
        next_row=result.next_row,
        processed_rows=F("processed_rows") + result.rows,
        created_count=F("created_count") + result.created,
        updated_count=F("updated_count") + result.updated,
        refused_count=F("refused_count") + result.refused,
        error_log_size=size,
        updated_at=timezone.now(),
    )
    if not changed:
        raise _Stopped
    job.next_row = result.next_row


def _finish(job: ImportJob) -> None:
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
        status=ImportStatus.DONE, finished_at=timezone.now(), updated_at=timezone.now()
    )


def _fail(job: ImportJob, message: str) -> None:
    job.status, job.message = ImportStatus.FAILED, message[:2000]
    ImportJob.objects.filter(pk=job.pk).update(
        status=job.status, message=job.message, updated_at=timezone.now()
    )


def import_job_summary(job: ImportJob) -> dict[str, Any]:
    """Counts and progress of a job for the page's progress bar and the API."""
    return {
        "status": job.status,
        "total": job.total_rows,
        "processed": job.processed_rows,
        "progress": round(job.progress, 4),
        "created": job.created_count,
        "updated": job.updated_count,
        "refused": job.refused_count,
        "message": job.message,
    }


# --- helpers --------------------------------------------------------------------------------


def _open(job: ImportJob) -> Table:
    return open_table(
        job.file.path, get_kind(job.kind), filename=job.original_name or job.file.name,
        max_bytes=None,
    )  # fmt: skip


def _actor(job: ImportJob) -> Any:
    if job.created_by_id is None:
        return None
    return get_user_model().objects.filter(pk=job.created_by_id).first()


def _pk(user: Any) -> int | None:
    return getattr(user, "pk", None)


def _save_report(job: ImportJob, report: ErrorWorkbook | None, tag: str) -> None:
    if report is None or not report.count:
        if report is not None:
            report.discard()
        if job.error_report:
            job.error_report.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(error_report="")
        return
    path = Path(job.file.path).with_name(f"errors-{job.pk}-{tag}.xlsx")
    report.save(path)
    with path.open("rb") as handle:
        job.error_report.save(f"错误数据-{job.pk}.xlsx", File(handle), save=False)
    path.unlink(missing_ok=True)
    ImportJob.objects.filter(pk=job.pk).update(error_report=job.error_report.name)


class ErrorLog:
    """Refused rows of the real run, one JSON line each, checkpointed by byte size.

    A file is not transactional, so on open it is cut back to the size recorded with the last
    committed batch: lines written by a batch that was then rolled back disappear.
    """

    def __init__(self, job: ImportJob) -> None:
        self.path = Path(job.file.path).with_name(f"errors-{job.pk}.jsonl")
        with self.path.open("ab") as handle:
            handle.truncate(job.error_log_size)

    def append(self, refused: list[tuple[SheetRow, list[RowError]]]) -> int:
        with self.path.open("ab") as handle:
            for row, errors in refused:
                line = {"row": row.number, "raw": row.raw, "errors": [e.as_dict() for e in errors]}
                handle.write(json.dumps(line, ensure_ascii=False, default=str).encode() + b"\n")
            return handle.tell()

    def workbook(self, table: Table) -> ErrorWorkbook:
        report = ErrorWorkbook(table.headers)
        with self.path.open("rb") as handle:
            for line in handle:
                item = json.loads(line)
                errors = [RowError(**e) for e in item["errors"]]
                report.add(SheetRow(item["row"], {}, item["raw"]), errors)
        return report


__all__ = [
    "ImportJobConflict", "Summary", "import_job_cancel", "import_job_create",
    "import_job_dry_run", "import_job_execute", "import_job_resume", "import_job_start",
    "import_job_summary",
]  # fmt: skip
