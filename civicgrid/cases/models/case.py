"""The case, its timeline and its number sequence."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models import When as _When
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.choices import Role

from ..choices import (
    OPEN_STATUSES,
    Action,
    AreaClass,
    Card,
    Light,
    Source,
    Status,
    Step,
)

# Open and not suspended: the cases whose step clock runs (the overdue lists' index).
ACTIVE_STATUSES = sorted(OPEN_STATUSES - {Status.SUSPENDED})
# The condition of case_phone_bidx_set, written as a literal: SQLite uses a partial index
# only when the query repeats its condition, and a bound '' is not the literal ''.
PHONE_SET = Q(reporter_phone_bidx__gt=RawSQL("''", ()))
# Roles that see cases by region path (handlers see by department, residents their own).
PATH_ROLES = frozenset(set(Role) - {Role.RESIDENT, Role.HANDLER})
# Roles at the top of the tree that also see cases located nowhere (J2: "未定位").
UNLOCATED_ROLES = frozenset({Role.OPERATOR, Role.LEADER, Role.ADMIN})


class CaseQuerySet(models.QuerySet):
    def for_scope(self, scope):
        """Cases the holder of `scope` may see: by region path (operators, leaders, grid staff),
        by department (handlers), and always the cases they reported themselves."""
        if scope.is_global:
            return self
        if scope.user_id is None:
            return self.none()
        q = Q(reporter_id=scope.user_id)
        for role, path, dept_id in scope.assignments:
            if role in PATH_ROLES and path:
                q |= Q(path__startswith=path) | Q(assigned_path__startswith=path)
                if role in UNLOCATED_ROLES and path.count("/") == 1:
                    q |= Q(located=False)
            if role in (Role.HANDLER, Role.FUNCTIONAL_WORKER) and dept_id is not None:
                q |= Q(department_id=dept_id)
        return self.filter(q)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def with_light(self, now: dt.datetime):
        """Annotate `light` (none/green/yellow/red) from the stored step clock, so lists can
        show and sort by it without working-time arithmetic in SQL."""
        return self.annotate(
            light=models.Case(
                _When(step_deadline__isnull=True, then=Value(Light.NONE)),
                _When(step_deadline__lt=now, then=Value(Light.RED)),
                _When(step_warn_at__lte=now, then=Value(Light.YELLOW)),
                default=Value(Light.GREEN),
                output_field=models.CharField(),
            )
        )

    def overdue(self, now: dt.datetime):
        return self.filter(step_deadline__lt=now, status__in=OPEN_STATUSES).exclude(
            status=Status.SUSPENDED
        )

    def for_lists(self):
        return self.select_related(
            "category__parent", "department", "unit", "assigned_region", "reporter"
        )


class Case(models.Model):
    """One reported problem and where it stands in the loop.

    `path` copies the unit grid's region path so scope is one indexed prefix match;
    `assigned_path` does the same for grid-level work (a case dispatched to a grid and
    escalated upward). The step clock (`step_*`) is computed by the working-time clock when a
    step starts and stored, so traffic lights and overdue lists are plain comparisons.
    Every change of `status` goes through cases.services with compare-and-set on `version`.
    """

    number = models.CharField(_("案件编号"), max_length=20, unique=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    category = models.ForeignKey(
        "cases.Category",
        db_index=False,  # see Meta.indexes: covered, or never searched by
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("类别"),
    )
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("描述"), blank=True)
    # Words of title + description for duplicate detection (cases/dedup.py), cut once at
    # intake; NULL on rows from before the field existed (cut on the fly when compared).
    text_tokens = models.TextField(null=True, blank=True, editable=False)  # noqa: DJ001
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    unit = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("基础网格单元"),
    )
    path = models.CharField(_("区域路径"), max_length=255, blank=True, db_index=True)
    located = models.BooleanField(_("已定位"), default=False)
    locate_reason = models.CharField(_("未定位原因"), max_length=100, blank=True)
    area_class = models.CharField(
        _("区域分类"), max_length=1, choices=AreaClass.choices, default=AreaClass.B
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.REPORTED
    )
    suspended_from = models.CharField(
        _("挂账前状态"), max_length=16, choices=Status.choices, blank=True
    )
    department = models.ForeignKey(
        "grids.Department",
        db_index=False,  # see Meta.indexes: covered, or never searched by
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("处置部门"),
    )
    suggested_department = models.ForeignKey(
        "grids.Department",
        db_index=False,  # see Meta.indexes: covered, or never searched by
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("建议部门"),
    )
    routing_reason = models.CharField(_("派遣提示"), max_length=100, blank=True)
    assigned_region = models.ForeignKey(
        "grids.Region",
        db_index=False,  # see Meta.indexes: partial, NULL at intake
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("承办网格/区域"),
    )
    assigned_path = models.CharField(_("承办区域路径"), max_length=255, blank=True, db_index=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,  # see Meta.indexes: covered, or never searched by
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reported_cases",
        verbose_name=_("上报人"),
    )
    reporter_name = models.CharField(_("联系人"), max_length=50, blank=True)
    reporter_phone_enc = models.TextField(_("联系电话(加密)"), blank=True, editable=False)
    # Indexed only where set (Meta.indexes): a lookup by it must include PHONE_SET
    reporter_phone_bidx = models.CharField(max_length=64, blank=True, editable=False)
    anonymous = models.BooleanField(_("匿名"), default=False)
    idempotency_key = models.CharField(_("幂等键"), max_length=64, blank=True)
    merged_into = models.ForeignKey(
        "self",
        db_index=False,  # see Meta.indexes: partial, NULL at intake
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_cases",
        verbose_name=_("合并至"),
    )
    duplicate_suspected = models.BooleanField(_("疑似重复"), default=False)
    camera = models.ForeignKey(
        "cases.Camera",
        db_index=False,  # see Meta.indexes: partial, NULL at intake
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("监控点位"),
    )
    handled_on_spot = models.BooleanField(_("就地处置"), default=False)
    on_spot_handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,  # see Meta.indexes: covered, or never searched by
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("就地处置人"),
    )
    step = models.CharField(_("当前环节"), max_length=10, choices=Step.choices, blank=True)
    step_started_at = models.DateTimeField(_("环节开始"), null=True, blank=True)
    step_warn_at = models.DateTimeField(_("黄灯时间"), null=True, blank=True)
    # Indexed only where set (Meta.indexes): a new case has no step clock yet
    step_deadline = models.DateTimeField(_("环节期限"), null=True, blank=True)
    step_red_at = models.DateTimeField(_("红牌时间"), null=True, blank=True)
    deadline_provisional = models.BooleanField(_("期限暂定"), default=False)
    card = models.CharField(_("督办"), max_length=6, choices=Card.choices, blank=True)
    extension_pending = models.BooleanField(_("延期待审批"), default=False)
    handle_note = models.TextField(_("处置说明"), blank=True)
    rating = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=500, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    return_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    created_at = models.DateTimeField(_("上报时间"), db_index=True)
    updated_at = models.DateTimeField(_("更新时间"))
    accepted_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    verified_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=0)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        # Every index is paid for on every intake and every move (27 of them once made a
        # case insert write ~30 B-tree pages). So foreign keys that a composite index below
        # starts with (category, department, reporter), or that nothing looks cases up by
        # (suggested department, on-the-spot handler: only a rare user/department deletion
        # scans), have no index of their own, and the two flags are served by the partial
        # indexes below.
        indexes = [
            models.Index(fields=["status", "-created_at"], name="case_status_created"),
            # department workbench: one bucket (status) of a department, oldest deadline first;
            # `id` too, so PostgreSQL reads (deadline, id) order and stops after one page instead
            # of sorting every case of a bucket with the same (or no) deadline
            models.Index(
                fields=["department", "status", "step_deadline", "id"],
                name="case_dept_status_deadline_id",
            ),
            models.Index(fields=["reporter", "-created_at"], name="case_reporter_created"),
            # duplicate candidates: same category inside a lat/lng box and a time window
            # (cases/dedup.py, every intake). Latitude leads after the category: a band of
            # ~100 m holds few cases of a category however busy the day or long the history,
            # and lng and created_at are checked in the index without reading case rows
            models.Index(fields=["category", "lat", "lng", "created_at"], name="case_category_box"),
            # overdue lists (centre and department): read in deadline order and stopped after
            # one page, instead of sorting every open case; partial, so closed cases (most of
            # the table) are not in it
            models.Index(
                fields=["step_deadline", "id"],
                condition=Q(status__in=ACTIVE_STATUSES, step_deadline__isnull=False),
                name="case_active_deadline_set",
            ),
            # buckets that are a sliver of the table (unlocated, suspected duplicates,
            # extension requests): partial, so their page and capped count read only them.
            # Led by the column the query also constrains (status, department) so SQLite sees
            # two SEARCHes and takes the smaller: a partial index it could only SCAN lost to
            # the whole-status index even when empty (1.5 s for an empty bucket at 1M cases)
            models.Index(
                fields=["status", "created_at", "id"],
                condition=Q(located=False),
                name="case_unlocated_status",
            ),
            models.Index(
                fields=["status", "created_at", "id"],
                condition=Q(duplicate_suspected=True),
                name="case_dup_status",
            ),
            models.Index(
                fields=["created_at", "id"],
                condition=Q(extension_pending=True),
                name="case_extension_pending",
            ),
            models.Index(
                fields=["department", "step_deadline", "id"],
                condition=Q(extension_pending=True),
                name="case_extension_dept",
            ),
            # Columns that are empty when a case is reported (merged, escalated, camera,
            # phone, step clock) are indexed only where set. A full index would take an entry
            # for every new case, one more B-tree page to change per intake, and on SQLite in
            # WAL mode every page an intake touches is read again by the next connection
            # (a commit elsewhere drops a connection's whole page cache).
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="case_merged_into_set",
            ),
            models.Index(
                fields=["assigned_region"],
                condition=Q(assigned_region__isnull=False),
                name="case_assigned_region_set",
            ),
            models.Index(
                fields=["camera"], condition=Q(camera__isnull=False), name="case_camera_set"
            ),
            models.Index(
                fields=["step_deadline"],
                condition=Q(step_deadline__isnull=False),
                name="case_step_deadline_set",
            ),
            models.Index(
                fields=["reporter_phone_bidx"],
                condition=Q(reporter_phone_bidx__gt=""),
                name="case_phone_bidx_set",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "idempotency_key"],
                condition=Q(reporter__isnull=False) & ~Q(idempotency_key=""),
                name="case_idempotency_per_reporter",
            ),
            models.UniqueConstraint(
                fields=["source", "idempotency_key"],
                condition=Q(reporter__isnull=True) & ~Q(idempotency_key=""),
                name="case_idempotency_per_source",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="case_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_grid_level(self) -> bool:
        return self.department_id is None and self.assigned_region_id is not None


class CaseEvent(models.Model):
    """One row of a case's timeline, written in the same transaction as the change it records."""

    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # caseevent_case_at starts with it
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=20, choices=Action.choices)
    from_status = models.CharField(_("原状态"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=Status.choices, blank=True)
    reason = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("案件记录")
        verbose_name_plural = _("案件记录")
        indexes = [models.Index(fields=["case", "at"], name="caseevent_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_status}→{self.to_status}"


class CaseSequence(models.Model):
    """Per-day counter behind human case numbers (YYYYMMDD + 5 digits)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("案件编号序列")

    def __str__(self) -> str:
        return f"{self.day} #{self.last}"
