"""Organisations (单位组织) and managed city components (部件)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import COMPONENT_MAJORS, ComponentState, OrgKind, OrgStatus
from .base import ScopedModel
from .places import Building


class Organisation(ScopedModel):
    name = models.CharField(_("名称"), max_length=200, db_index=True)
    kind = models.CharField(_("类别"), max_length=16, choices=OrgKind.choices)
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, null=True, blank=True, unique=True
    )
    legal_person = models.CharField(_("法定代表人/负责人"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True, db_index=True)
    building = models.ForeignKey(
        Building,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name=_("所在楼栋"),
    )
    employees = models.PositiveIntegerField(_("从业人数"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=OrgStatus.choices, default=OrgStatus.ACTIVE
    )
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)

    class Meta:
        ordering = ["unit_path", "name"]
        verbose_name = _("单位组织")
        verbose_name_plural = _("单位组织")

    def __str__(self) -> str:
        return self.name


class Component(ScopedModel):
    code = models.CharField(_("部件编码"), max_length=16, unique=True)
    major = models.CharField(
        _("大类"), max_length=2, choices=sorted(COMPONENT_MAJORS.items()), db_index=True
    )
    minor = models.CharField(_("小类"), max_length=2)
    name = models.CharField(_("名称"), max_length=100)
    state = models.CharField(
        _("状态"), max_length=10, choices=ComponentState.choices, default=ComponentState.NORMAL
    )
    address = models.CharField(_("位置描述"), max_length=200, blank=True)
    owner = models.CharField(_("权属单位"), max_length=100, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("部件")
        verbose_name_plural = _("部件")

    def __str__(self) -> str:
        return f"{self.name}({self.code})"
