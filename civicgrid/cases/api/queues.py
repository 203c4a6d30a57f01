"""Queues mirroring the selectors (centre queue, department and grid workbenches) and the
in-app inbox. Each list is one page query plus one capped count, whatever the number of
rows; the bucket counts are one query of capped counts (exact up to `cap`, then flagged in
`capped`), so neither grows with a million cases in scope."""

from typing import Literal

from django.utils import timezone
from ninja import Field, Path, Query, Schema

from civicgrid.accounts.choices import Role

from .. import notify, selectors
from ..permissions import DEPARTMENT_ROLES, GRID_STAFF_ROLES
from . import router
from .common import CENTRE_VIEW_ROLES, paged, require_roles
from .paging import capped_paged
from .schemas import CaseOut, MarkedOut, MarkReadIn, NotificationFilter, NotificationOut

CentreBucket = Literal[
    "new", "unlocated", "duplicates", "to_dispatch", "no_department", "returned", "extensions",
    "to_close", "suspended", "overdue",
]  # fmt: skip
DepartmentBucket = Literal["to_sign", "in_hand", "overdue", "extensions", "handled"]
GridBucket = Literal["to_verify", "tasks", "my_reports"]

CENTRE_MESSAGE = "只有指挥中心人员可以查看案件队列"
DEPARTMENT_MESSAGE = "只有部门处置人员可以查看部门工作台"
GRID_MESSAGE = "只有网格员可以查看网格工作台"
GRID_ROLES = GRID_STAFF_ROLES | {Role.FUNCTIONAL_WORKER}


class CountsFilter(Schema):
    cap: int = Field(
        selectors.BUCKET_COUNT_CAP,
        ge=1,
        le=10_000,
        description="每栏最多数到多少;超过的栏记入 capped(数得越多越慢)",
    )


class QueueCountsOut(Schema):
    counts: dict[str, int] = Field(description="各栏数量;在 capped 中的栏表示“至少 cap 件”")
    capped: list[str] = Field(description="数量超过 cap、只数到 cap 的栏")
    cap: int = Field(description="本次计数的上限")


def _counts_out(counts: dict, cap: int) -> dict:
    return {"counts": counts, "capped": [k for k, n in counts.items() if n.capped], "cap": cap}


@router.get("/queues/centre", response=QueueCountsOut, summary="指挥中心队列:各栏数量")
def centre_counts(request, filters: Query[CountsFilter]):
    require_roles(request.user, CENTRE_VIEW_ROLES, CENTRE_MESSAGE)
    counts = selectors.centre_queue_counts(user=request.user, cap=filters.cap)
    return _counts_out(counts, filters.cap)


@router.get("/queues/centre/{bucket}", response=list[CaseOut], summary="指挥中心队列")
@capped_paged
def centre_queue(request, bucket: Path[CentreBucket]):
    require_roles(request.user, CENTRE_VIEW_ROLES, CENTRE_MESSAGE)
    return selectors.centre_queue(user=request.user, bucket=bucket, now=timezone.now())


@router.get("/queues/department", response=QueueCountsOut, summary="部门工作台:各栏数量")
def department_counts(request, filters: Query[CountsFilter]):
    require_roles(request.user, set(DEPARTMENT_ROLES), DEPARTMENT_MESSAGE)
    counts = selectors.department_counts(user=request.user, cap=filters.cap)
    return _counts_out(counts, filters.cap)


@router.get("/queues/department/{bucket}", response=list[CaseOut], summary="部门工作台")
@capped_paged
def department_queue(request, bucket: Path[DepartmentBucket]):
    require_roles(request.user, set(DEPARTMENT_ROLES), DEPARTMENT_MESSAGE)
    return selectors.department_workbench(user=request.user, bucket=bucket)


@router.get("/queues/grid/{bucket}", response=list[CaseOut], summary="网格员工作台")
@capped_paged
def grid_queue(request, bucket: Path[GridBucket]):
    require_roles(request.user, set(GRID_ROLES), GRID_MESSAGE)
    return selectors.grid_workbench(user=request.user, bucket=bucket)


@router.get("/notifications", response=list[NotificationOut], summary="我的通知")
@paged
def notification_list(request, filters: Query[NotificationFilter]):
    return selectors.notifications_for(user=request.user, unread_only=filters.unread)


@router.post("/notifications/read", response=MarkedOut, summary="标为已读")
def notification_read(request, payload: MarkReadIn):
    """Marks the given messages (only the caller's own) or all of them as read."""
    updated = notify.notification_mark_read(user=request.user, ids=payload.ids)
    return {"updated": updated, "unread": notify.unread_count(request.user)}
