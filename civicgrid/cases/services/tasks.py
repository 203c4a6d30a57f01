"""Background work of the intake (django-tasks; queued in the intake's own transaction).

Why a task: telling the grid's staff about a new case means finding them (a join over role
assignments and the region tree) and writing one inbox row each. None of that decides
whether the report is accepted, so it does not belong on the resident's request or inside
the intake's write transaction.

Why one task per write batch, not per case: the intake writes the cases that arrive together
in one batch (services/intake_write.py), and each task row is one more row in that write (a
table with four indexes, one on a random UUID); the worker then claims each task and records
its start and end. One `notify_new_cases` row carries the batch's case ids.
"""

from __future__ import annotations

import logging
import uuid

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db import DatabaseBackend

NEW_CASE_VERB = "new_case"
log = logging.getLogger(__name__)


@task()
def notify_new_cases(case_ids: list[int]) -> int:
    """Tell the staff about each case of one intake batch; returns how many were told.
    Each case in its own savepoint: a case whose notice fails (logged) leaves the others'
    notices written, and the task then ends failed, so its result shows the failure."""
    told, failed = 0, []
    for case_id in case_ids:
        try:
            with transaction.atomic():
                told += _new_case_notify(case_id)
        except Exception:
            log.exception("new case %s: notifying its staff failed", case_id)
            failed.append(case_id)
    if failed:
        raise RuntimeError(f"notifying the staff of new cases {failed} failed")
    return told


@task()
def notify_new_case(case_id: int) -> int:
    """One case: what the intake queued before `notify_new_cases`. Kept so that rows still
    in a queue when this version is deployed run."""
    return _new_case_notify(case_id)


def _new_case_notify(case_id: int) -> int:
    """Inbox rows for the staff of the grid the case fell in (the centre's operators for a
    case located nowhere), except whoever reported or typed it in. Returns how many."""
    from .. import notify
    from ..models import Case

    fields = ("id", "number", "title", "path", "reporter_id")
    case = Case.objects.filter(pk=case_id).only(*fields).first()
    if case is None:  # removed before the worker ran
        return 0
    staff = notify.grid_staff(case.path) if case.path else notify.centre_operators(case)
    skip = _reported_by(case_id) | {case.reporter_id}
    users = [u for u in staff if u.pk not in skip]
    text = f"新案件 {case.number}:{case.title}"
    return notify.notify_users(users=users, case=case, verb=NEW_CASE_VERB, text=text)


def _reported_by(case_id: int) -> set[int | None]:
    """Whoever wrote the report row (the hotline operator, the grid worker): they know."""
    from ..choices import Action
    from ..models import CaseEvent

    rows = CaseEvent.objects.filter(case_id=case_id, action=Action.REPORT)
    return set(rows.values_list("actor_id", flat=True))


def new_case_tasks_add(case_ids: list[int]) -> None:
    """Queue `notify_new_cases` for a batch's new cases, from inside the intake's transaction.

    The database backend's row is written here, in that transaction, so it commits with the
    cases and no worker sees a task before its cases; it is built as the backend's own
    `enqueue` builds it (its pre_save signal's "no run_after" date included), without an ORM
    save. The backend's `task_enqueued` signal, which django-tasks only logs, is not sent.
    Any other backend could run a task at once, so it gets the task after commit.
    """
    if not case_ids:
        return
    rows = new_case_task_rows(case_ids)
    if rows is None:
        ids = list(case_ids)
        transaction.on_commit(lambda: notify_new_cases.enqueue(ids))
        return
    from django_tasks_db.models import DBTaskResult

    from civicgrid.core.fastsql import values_insert

    values_insert(DBTaskResult, rows)


def new_case_task_rows(case_ids: list[int]) -> list[list] | None:
    """The database backend's row for a batch's `case_ids` (one task: a list of one
    `insert_values` list, empty for no cases), to be inserted with the cases; None when the
    task backend is another one (then the task is queued after commit, `new_case_tasks_add`)."""
    backend = notify_new_cases.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return None
    return [_task_row(list(case_ids), backend.alias)] if case_ids else []


# Per (vendor, backend, task options): the column values shared by every intake's task row
# and where the per-row ones go. Building and preparing a DBTaskResult for each batch cost
# more than its INSERT, and looking the fields and positions up again for each batch cost
# as much as preparing the row (docs/BENCHMARKS.md).
_TEMPLATES: dict[tuple, tuple[list, list]] = {}


def _task_row(case_ids: list[int], backend_name: str) -> list:
    """The row's column values: a template row prepared by the model's fields (once per
    process), then what differs per batch (the id, the arguments, the enqueue time),
    prepared by their fields."""
    conn = connections[DEFAULT_DB_ALIAS]
    common, slots = _template(conn, backend_name)
    (at_id, id_field), (at_args, args_field), (at_enqueued, enqueued_field) = slots
    row = list(common)
    row[at_id] = id_field.get_db_prep_save(uuid.uuid4(), conn)
    row[at_args] = args_field.get_db_prep_save({"args": [case_ids], "kwargs": {}}, conn)
    row[at_enqueued] = enqueued_field.get_db_prep_save(timezone.now(), conn)
    return row


def _template(conn, backend_name: str) -> tuple[list, list]:
    """(template row, [(position, field)] of the id, the arguments and the enqueue time)."""
    t = notify_new_cases
    key = (conn.vendor, backend_name, t.priority, t.module_path, t.queue_name, t.run_after)
    found = _TEMPLATES.get(key)
    if found is None:
        found = _TEMPLATES[key] = _template_build(backend_name)
    return found


def _template_build(backend_name: str) -> tuple[list, list]:
    from django_tasks_db.models import DBTaskResult, get_date_max

    from civicgrid.core.fastsql import insert_position, insert_values

    t = notify_new_cases
    template = DBTaskResult(
        args_kwargs={},
        priority=t.priority,
        task_path=t.module_path,
        queue_name=t.queue_name,
        run_after=t.run_after or get_date_max(),
        backend_name=backend_name,
    )
    fields = [DBTaskResult._meta.get_field(n) for n in ("id", "args_kwargs", "enqueued_at")]
    slots = [(insert_position(DBTaskResult, f.attname), f) for f in fields]
    return insert_values(template), slots
