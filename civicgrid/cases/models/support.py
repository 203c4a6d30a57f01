"""Attachments, extensions, supervision notices and the in-app inbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import AttachmentKind, Card, ExtensionStatus, Step


class Attachment(models.Model):
    """A photo or snapshot of a case. Validation (content sniffing, size, EXIF stripping,
    thumbnails) is done by cases/attachments.py before a row is written; `file`, `medium`
    and `thumb` are all re-encoded copies without metadata, under random names."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="attachments", verbose_name=_("案件")
    )
    event = models.ForeignKey(
        "cases.CaseEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("所属记录"),
    )
    kind = models.CharField(_("类型"), max_length=10, choices=AttachmentKind.choices)
    file = models.FileField(_("文件"), upload_to="cases/%Y/%m/", max_length=255)
    thumb = models.FileField(_("缩略图"), upload_to="cases/thumbs/%Y/%m/", blank=True)
    medium = models.FileField(_("中图"), upload_to="cases/medium/%Y/%m/", blank=True)
    width = models.PositiveIntegerField(_("宽"), default=0)
    height = models.PositiveIntegerField(_("高"), default=0)
    content_type = models.CharField(_("文件类型"), max_length=50, blank=True)
    size = models.PositiveIntegerField(_("大小(字节)"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()} {self.file.name}"


class Extension(models.Model):
    """A handler's request for more time (延期) and the centre's decision."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="extensions", verbose_name=_("案件")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("申请人"),
    )
    reason = models.TextField(_("申请理由"))
    amount = models.FloatField(_("延长时长"))
    limit_type = models.CharField(_("时限类型"), max_length=16)
    status = models.CharField(
        _("状态"), max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decision_reason = models.TextField(_("审批意见"), blank=True)
    old_deadline = models.DateTimeField(_("原期限"), null=True, blank=True)
    new_deadline = models.DateTimeField(_("新期限"), null=True, blank=True)
    requested_at = models.DateTimeField(_("申请时间"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")

    def __str__(self) -> str:
        return f"{self.case_id} 延期 {self.amount} {self.get_status_display()}"


class Escalation(models.Model):
    """A supervision notice (督办): yellow card when a step reaches its limit, red beyond.
    Unique per case, step run and level, so the scheduler can run any number of times."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="escalations", verbose_name=_("案件")
    )
    level = models.CharField(_("级别"), max_length=6, choices=Card.choices)
    step = models.CharField(_("环节"), max_length=10, choices=Step.choices)
    step_started_at = models.DateTimeField(_("环节开始"))
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("督办对象"),
    )
    target_department = models.ForeignKey(
        "grids.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("督办部门"),
    )
    target_region = models.ForeignKey(
        "grids.Region",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("督办网格/区域"),
    )
    raised_at = models.DateTimeField(_("督办时间"), db_index=True)
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "step", "step_started_at", "level"], name="one_card_per_step_run"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_level_display()} {self.get_step_display()}"


class Notification(models.Model):
    """One message in a user's in-app inbox."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("案件"),
    )
    verb = models.CharField(_("类型"), max_length=20)
    text = models.CharField(_("内容"), max_length=500)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.verb} {self.text[:20]}"
