"""Background tasks of the import engine (django-tasks; enqueued only on commit)."""

from django_tasks import task

from .services import import_job_execute


@task()
def run_import_job(job_id: int) -> None:
    """Run (or resume) a job's remaining batches; the job records progress and failure."""
    import_job_execute(job_id)
