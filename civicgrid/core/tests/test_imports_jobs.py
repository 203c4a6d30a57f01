"""Import jobs: upload checks, dry run, background run in batches, failure, resume, cancel."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from civicgrid.core.imports import ImportFileError, ImportRun, register, unregister
from civicgrid.core.imports.services import (
    ImportJobConflict,
    import_job_cancel,
    import_job_create,
    import_job_dry_run,
    import_job_resume,
    import_job_start,
    import_job_summary,
)
from civicgrid.core.models import AuditLog, ImportJob, ImportStatus
from civicgrid.core.testing.factories import UserFactory

from .imports_example import GRIDS, ResidentKind, office_workbook, simple_csv, simple_rows

User = get_user_model()


@pytest.fixture
def setup(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    register(ResidentKind)
    for code in GRIDS:
        Group.objects.create(name=code)
    yield UserFactory()
    ResidentKind.fail_on_row = None
    unregister(ResidentKind.name)


def _upload(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def _residents():
    return User.objects.filter(username__startswith="320803")


def _job(user, path, batch_size=10):
    job = import_job_create(kind="test_resident", uploaded_file=_upload(path), user=user)
    job.batch_size = batch_size
    job.save(update_fields=["batch_size"])
    return job


def test_create_stores_file_under_imports_and_audits(setup, settings):
    path = office_workbook(settings.MEDIA_ROOT.parent / "office.xlsx")
    job = import_job_create(kind="test_resident", uploaded_file=_upload(path), user=setup)
    assert job.file.name.startswith("imports/") and job.file.name.endswith(".xlsx")
    assert (job.status, job.created_by_id, job.original_name) == (
        "pending",
        setup.pk,
        "office.xlsx",
    )
    assert AuditLog.objects.filter(object_type="core.importjob", object_id=str(job.pk)).exists()


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("a.xlsx", b"", "empty_file"),
        ("a.pdf", b"%PDF-1.4 ...", "bad_type"),
        ("a.xlsx", b"%PDF-1.4 ...", "bad_type"),
        ("a.csv", "编号,名字\n1,2\n".encode(), "no_header"),
    ],
)
def test_create_refuses_bad_uploads_and_keeps_no_file(setup, settings, name, data, code):
    with pytest.raises(ImportFileError) as exc:
        import_job_create(kind="test_resident", uploaded_file=SimpleUploadedFile(name, data),
                          user=setup)  # fmt: skip
    assert exc.value.code == code
    assert not ImportJob.objects.exists()
    assert not list((settings.MEDIA_ROOT / "imports").rglob("*.*"))


def test_create_refuses_oversized_upload(setup, settings, tmp_path):
    settings.IMPORT_MAX_BYTES = 200
    path = simple_csv(tmp_path / "big.csv", simple_rows(30))
    with pytest.raises(ImportFileError, match="MB"):
        import_job_create(kind="test_resident", uploaded_file=_upload(path), user=setup)


def test_dry_run_then_run_in_background(setup, tmp_path, django_capture_on_commit_callbacks):
    job = _job(setup, office_workbook(tmp_path / "office.xlsx"), batch_size=4)
    summary = import_job_dry_run(job=job)
    assert (summary["rows"], summary["created"], summary["refused"]) == (9, 3, 6)
    job.refresh_from_db()
    assert (job.status, job.total_rows) == (ImportStatus.DRY_RUN_DONE, 9)
    assert job.error_report.name.endswith(".xlsx")
    assert len(list(load_workbook(job.error_report.path).active.values)) == 7
    assert not _residents().exists()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        import_job_start(job=job)
    assert len(callbacks) == 1  # enqueued only on commit
    job.refresh_from_db()
    assert import_job_summary(job) == {
        "status": "done", "total": 9, "processed": 9, "progress": 1.0, "created": 3,
        "updated": 0, "refused": 6, "message": "",
    }  # fmt: skip
    assert job.next_row == 15 and _residents().count() == 3
    assert len(list(load_workbook(job.error_report.path).active.values)) == 7
    with pytest.raises(ImportJobConflict):
        import_job_start(job=job)


def test_failing_middle_batch_rolls_back_and_resume_finishes(
    setup, tmp_path, django_capture_on_commit_callbacks
):
    rows = simple_rows(30)
    rows[12][1] = ""  # one refused row in the middle batch (sheet row 14)
    job = _job(setup, simple_csv(tmp_path / "r.csv", rows), batch_size=10)
    ResidentKind.fail_on_row = 15  # second batch: sheet rows 12–21
    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(job=job)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "forced failure" in job.message
    assert (job.next_row, job.processed_rows, job.created_count) == (12, 10, 10)
    assert _residents().count() == 10  # the first batch only: nothing of the second
    assert job.total_rows == 30

    ResidentKind.fail_on_row = None
    with django_capture_on_commit_callbacks(execute=True):
        import_job_resume(job=job)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.processed_rows, job.created_count, job.updated_count, job.refused_count) == (
        30, 29, 0, 1,
    )  # fmt: skip
    assert job.next_row == 32
    assert _residents().count() == 29  # no duplicates, nothing updated twice
    report = list(load_workbook(job.error_report.path).active.values)
    assert [r[-1] for r in report[1:]] == [14]  # refused row listed once


def test_resume_refuses_a_job_that_is_still_running(setup, tmp_path):
    job = _job(setup, simple_csv(tmp_path / "r.csv", simple_rows(3)))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    with pytest.raises(ImportJobConflict):
        import_job_resume(job=job)


def test_cancel_stops_before_the_next_batch(setup, tmp_path, django_capture_on_commit_callbacks):
    job = _job(setup, simple_csv(tmp_path / "r.csv", simple_rows(30)), batch_size=10)
    original = ImportRun._run_batch
    calls = []

    def run_then_cancel(run, batch):
        original(run, batch)  # committed
        calls.append(len(batch))
        if len(calls) == 1:  # as if the user pressed cancel between two batches
            ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CANCELLED)

    ImportRun._run_batch = run_then_cancel
    try:
        with django_capture_on_commit_callbacks(execute=True):
            import_job_start(job=job)
    finally:
        ImportRun._run_batch = original
    assert calls == [10]  # batch 2 applied, found the job cancelled, rolled back, stopped
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
    assert (job.processed_rows, _residents().count()) == (10, 10)  # batch 2 rolled back
    with pytest.raises(ImportJobConflict):
        import_job_cancel(job=job)


def test_start_without_dry_run_counts_rows_for_progress(
    setup, tmp_path, django_capture_on_commit_callbacks
):
    job = _job(setup, simple_csv(tmp_path / "r.csv", simple_rows(5), encoding="gbk"))
    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(job=job)
    job.refresh_from_db()
    assert (job.status, job.total_rows, job.progress, job.created_count) == ("done", 5, 1.0, 5)
    assert not job.error_report
