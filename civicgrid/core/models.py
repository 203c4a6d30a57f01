"""Base models and the append-only, hash-chained audit log."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("audit log is append-only")

    def delete(self):
        raise PermissionError("audit log is append-only")


class AuditAction(models.TextChoices):
    CREATE = "create", _("新增")
    CHANGE = "change", _("修改")
    DELETE = "delete", _("删除")
    EXPORT = "export", _("导出")
    REVEAL = "reveal", _("查看敏感信息")
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOCKOUT = "lockout", _("账号锁定")
    TOKEN = "token", _("API 令牌")


class AuditLog(models.Model):
    """One row per audited act. Rows are never updated or deleted.

    `hash` = SHA-256 over the previous row's hash in the same chain and this row's canonical
    content, so that changing or removing any row breaks its chain (`manage.py
    audit_verify`; the chains are described in core/audit.py). The actor is kept
    as a plain id plus a label snapshot, not a foreign key: deleting a user must not rewrite
    history. Database triggers (see migrations) refuse UPDATE and DELETE on both engines.
    """

    seq = models.BigAutoField(primary_key=True)
    # Which hash chain the row belongs to and its position there (core/audit.py); chain_seq
    # is NULL on rows written before there were several chains.
    chain = models.PositiveSmallIntegerField(_("链"), default=1)
    chain_seq = models.BigIntegerField(_("链内序号"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True, db_index=True)
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=20, choices=AuditAction.choices)
    # One composite index (Meta.indexes) instead of one per column: it serves "this type"
    # and "this object", and every audited write updates one B-tree fewer.
    object_type = models.CharField(_("对象类型"), max_length=80)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    request_id = models.CharField(_("请求ID"), max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        indexes = [models.Index(fields=["object_type", "object_id"], name="auditlog_object")]
        constraints = [
            # one row per position: a forked chain is refused, and verify walks this index
            models.UniqueConstraint(
                fields=["chain", "chain_seq"],
                condition=models.Q(chain_seq__isnull=False),
                name="auditlog_chain_position",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit log is append-only")


class AuditChainHead(models.Model):
    """One row per audit chain (id = chain number) holding its last position and hash;
    locking it serialises appends to that chain only.

    It also lets `audit_verify` notice that the newest rows were deleted (the tail of a
    chain cannot otherwise be told apart from a shorter chain).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链头")

    def __str__(self) -> str:
        return f"audit head #{self.last_seq}"


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("待试导入")
    DRY_RUN_DONE = "dry_run_done", _("试导入完成")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


class ImportJob(TimeStampedModel):
    """One uploaded file being imported as one kind (see civicgrid/core/imports/).

    `next_row` is the checkpoint: the sheet row from which a resumed run continues. It is
    advanced in the same transaction as each batch, so it never points past uncommitted work.
    `error_log_size` is the same checkpoint for the file of refused rows. The creator is kept
    as a plain id, like the audit log, so core does not depend on the accounts app.
    """

    kind = models.CharField(_("导入类型"), max_length=50, db_index=True)
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/", max_length=255)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(_("总行数"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    refused_count = models.PositiveIntegerField(_("拒绝"), default=0)
    next_row = models.PositiveIntegerField(_("续传起始行"), default=0)
    batch_size = models.PositiveIntegerField(_("每批行数"), default=500)
    dry_run_summary = models.JSONField(_("试导入结果"), default=dict, blank=True)
    error_report = models.FileField(_("错误报告"), upload_to="imports/%Y/%m/", blank=True)
    error_log_size = models.BigIntegerField(default=0)
    message = models.TextField(_("说明"), blank=True)
    created_by_id = models.BigIntegerField(_("创建人ID"), null=True, blank=True, db_index=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"

    @property
    def progress(self) -> float:
        """Share of rows processed, 0–1 (unknown total before the dry run: 0)."""
        if not self.total_rows:
            return 1.0 if self.status == ImportStatus.DONE else 0.0
        return min(1.0, self.processed_rows / self.total_rows)


class HolidayKind(models.TextChoices):
    HOLIDAY = "holiday", _("法定节假日")
    WORKDAY = "workday", _("调休上班")


class HolidaySource(models.TextChoices):
    PACKAGE = "package", _("日历包")
    ADMIN = "admin", _("管理员")


class Holiday(models.Model):
    """One exception to the Monday–Friday week: a statutory holiday or a make-up working day.

    Seeded from `chinesecalendar` (`manage.py holidays_sync`) and editable by administrators;
    rows an administrator wrote (`source=admin`) are never overwritten by a sync. A year with
    no `holiday` row is treated as unpublished, so deadlines in it are flagged provisional
    (civicgrid/core/worktime.py).
    """

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=HolidayKind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True)
    source = models.CharField(
        _("来源"), max_length=10, choices=HolidaySource.choices, default=HolidaySource.ADMIN
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日/调休")
        verbose_name_plural = _("节假日/调休")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _worktime_changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        _worktime_changed()
        return result


def _worktime_changed() -> None:
    from .worktime import clear_cache

    clear_cache()


class RefVersion(models.Model):
    """A counter per kind of reference data, bumped in the same transaction as every change
    to it, so that per-process snapshots (core/refcache.py) know when to reload."""

    name = models.CharField(max_length=40, primary_key=True)
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("参考数据版本")
        verbose_name_plural = _("参考数据版本")

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"
