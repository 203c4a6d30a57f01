"""Every read of the case loop, scoped by the user's role assignments.

Lists come back with `for_lists()` (one query, no N+1) and the `light` annotation; counts
for the queue tabs come from one aggregate query.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from civicgrid.accounts.scope import scope_of

from .choices import OPEN_STATUSES, Status
from .models import Case, CaseEvent, Category, Notification
from .permissions import DEPARTMENT_ROLES, GRID_STAFF_ROLES, CaseNotFound


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def case_list(*, user, now: dt.datetime | None = None) -> QuerySet[Case]:
    return Case.objects.for_scope(scope_of(user)).for_lists().with_light(_now(now))


def case_get(*, user, pk: int | None = None, number: str | None = None) -> Case:
    """One visible case (by id or number) with its timeline, or CaseNotFound."""
    qs = case_list(user=user).prefetch_related(
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
        "attachments",
        "extensions",
    )
    lookup = {"pk": pk} if pk is not None else {"number": number}
    case = qs.filter(**lookup).first()
    if case is None:
        raise CaseNotFound("案件不存在或不在您的权限范围内")
    return case


# --- command centre --------------------------------------------------------------------------

_ACTIVE = list(OPEN_STATUSES - {Status.SUSPENDED})


def centre_buckets(now: dt.datetime) -> dict[str, Q]:
    return {
        "new": Q(status=Status.REPORTED, located=True, duplicate_suspected=False),
        "unlocated": Q(located=False, status__in=[Status.REPORTED, Status.ACCEPTED]),
        "duplicates": Q(status=Status.REPORTED, duplicate_suspected=True),
        "to_dispatch": Q(status=Status.ACCEPTED, located=True),
        "no_department": Q(
            status__in=[Status.ACCEPTED, Status.RETURNED], suggested_department__isnull=True
        ),
        "returned": Q(status=Status.RETURNED),
        "extensions": Q(extension_pending=True),
        "to_close": Q(status=Status.VERIFIED),
        "suspended": Q(status=Status.SUSPENDED),
        "overdue": Q(status__in=_ACTIVE, step_deadline__lt=now),
    }


def centre_queue(*, user, bucket: str, now: dt.datetime | None = None) -> QuerySet[Case]:
    now = _now(now)
    q = centre_buckets(now).get(bucket)
    if q is None:
        raise ValueError(f"unknown bucket {bucket!r}")
    order = "step_deadline" if bucket == "overdue" else "created_at"
    return case_list(user=user, now=now).filter(q).order_by(order, "id")


def _counts(qs: QuerySet, buckets: dict[str, Q]) -> dict[str, int]:
    return qs.aggregate(**{name: Count("pk", filter=q) for name, q in buckets.items()})


def centre_queue_counts(*, user, now: dt.datetime | None = None) -> dict[str, int]:
    now = _now(now)
    return _counts(Case.objects.for_scope(scope_of(user)), centre_buckets(now))


# --- department workbench --------------------------------------------------------------------


def _department_ids(user) -> list[int]:
    scope = scope_of(user)
    return [d for role, _, d in scope.assignments if role in DEPARTMENT_ROLES and d is not None]


def department_buckets(now: dt.datetime) -> dict[str, Q]:
    return {
        "to_sign": Q(status=Status.DISPATCHED),
        "in_hand": Q(status=Status.SIGNED),
        "overdue": Q(status__in=[Status.DISPATCHED, Status.SIGNED], step_deadline__lt=now),
        "extensions": Q(extension_pending=True),
        "handled": Q(status=Status.HANDLED),
    }


def department_workbench(*, user, bucket: str, now: dt.datetime | None = None):
    now = _now(now)
    q = department_buckets(now)[bucket]
    qs = case_list(user=user, now=now).filter(department_id__in=_department_ids(user))
    return qs.filter(q).order_by("step_deadline", "id")


def department_counts(*, user, now: dt.datetime | None = None) -> dict[str, int]:
    qs = Case.objects.filter(department_id__in=_department_ids(user))
    return _counts(qs, department_buckets(_now(now)))


# --- grid worker and resident ----------------------------------------------------------------


def _grid_paths(user) -> list[str]:
    scope = scope_of(user)
    return [p for role, p, _ in scope.assignments if role in GRID_STAFF_ROLES and p]


def _under_any(field: str, paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{field}__startswith": p})
    return q


def grid_workbench(*, user, bucket: str, now: dt.datetime | None = None) -> QuerySet[Case]:
    """to_verify: handled cases in my grid; tasks: grid-level work assigned to my grid;
    my_reports: what I reported."""
    paths = _grid_paths(user)
    qs = case_list(user=user, now=now)
    if bucket == "to_verify":
        return qs.filter(_under_any("path", paths), status=Status.HANDLED).order_by("handled_at")
    if bucket == "tasks":
        return qs.filter(
            _under_any("assigned_path", paths),
            department__isnull=True,
            status__in=[Status.DISPATCHED, Status.SIGNED],
        ).order_by("step_deadline", "id")
    if bucket == "my_reports":
        return qs.filter(reporter=user)
    raise ValueError(f"unknown bucket {bucket!r}")


def resident_cases(*, user) -> QuerySet[Case]:
    return Case.objects.filter(reporter=user).select_related("category__parent")


def category_search(*, text: str = "") -> QuerySet[Category]:
    return Category.objects.active().search(text).select_related("parent").order_by("code")


def notifications_for(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user).select_related("case")
    return qs.filter(read_at__isnull=True) if unread_only else qs
