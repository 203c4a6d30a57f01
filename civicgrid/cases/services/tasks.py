"""Background work of the intake (django-tasks; enqueued only after the intake commits).

Why a task: telling the grid's staff about a new case means finding them (a join over role
assignments and the region tree) and writing one inbox row each. None of that decides
whether the report is accepted, so it does not belong on the resident's request or inside
the intake's write transaction.
"""

from __future__ import annotations

from django_tasks import task

NEW_CASE_VERB = "new_case"


@task()
def notify_new_case(case_id: int) -> int:
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
