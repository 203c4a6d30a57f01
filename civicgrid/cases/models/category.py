"""Categories of events and components (major → minor) and the responsibility list."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core.models import TimeStampedModel

from ..choices import AreaClass, CategoryKind, LimitType, Step


class CategoryQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def minors(self):
        return self.filter(parent__isnull=False)

    def search(self, text: str):
        """Minor classes whose name, major class name or keywords contain `text`
        (J1: typing "井盖" finds 公用设施 › 井盖缺失)."""
        text = text.strip()
        if not text:
            return self.minors()
        return self.minors().filter(
            Q(name__icontains=text) | Q(keywords__icontains=text) | Q(parent__name__icontains=text)
        )


class Category(TimeStampedModel):
    """A major class (parent is None) or a minor class. Only minor classes are used on cases;
    they carry the rules and limits (DESIGN.md §3).

    Limits: `handle_limit` is in `limit_type` units; dispatch and verify limits are in
    working hours, or in round-the-clock hours when the category is urgent. `area_limits`
    overrides any of them per area class: ``{"A": {"handle": 2}, "C": {"handle": 8}}``.
    """

    kind = models.CharField(_("类别"), max_length=10, choices=CategoryKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("大类"),
    )
    code = models.CharField(_("编码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    keywords = models.CharField(_("检索词"), max_length=200, blank=True)
    acceptance_rule = models.TextField(_("立案条件"), blank=True)
    closing_rule = models.TextField(_("结案条件"), blank=True)
    limit_type = models.CharField(
        _("时限类型"), max_length=16, choices=LimitType.choices, default=LimitType.WORK_DAYS
    )
    handle_limit = models.FloatField(_("处置时限"), default=3)
    dispatch_limit_hours = models.FloatField(_("派遣时限(小时)"), default=2)
    verify_limit_hours = models.FloatField(_("核查时限(小时)"), default=4)
    area_limits = models.JSONField(_("分类区域时限"), default=dict, blank=True)
    default_department = models.ForeignKey(
        "grids.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="default_categories",
        verbose_name=_("默认责任部门"),
    )
    duplicate_radius_m = models.PositiveIntegerField(_("查重半径(米)"), default=50)
    duplicate_window_h = models.PositiveIntegerField(_("查重时间窗(小时)"), default=24)
    duplicate_match_major = models.BooleanField(
        _("同大类查重"),
        default=False,
        help_text=_("勾选后,同一大类下其他小类的案件也参与查重"),
    )
    sort = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "sort", "code"]
        verbose_name = _("案件类别")
        verbose_name_plural = _("案件类别")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="unique_category_name"),
        ]

    def __str__(self) -> str:
        if self.parent_id:
            return f"{self.parent.name} › {self.name}"
        return self.name

    @property
    def is_minor(self) -> bool:
        return self.parent_id is not None

    def limit_for(self, step: str, area_class: str = AreaClass.B) -> tuple[str, float]:
        """(limit type, amount) of one step for a case in `area_class`."""
        override = (self.area_limits or {}).get(area_class, {})
        if step == Step.HANDLE:
            return self.limit_type, float(override.get("handle", self.handle_limit))
        hours_type = (
            LimitType.URGENT_HOURS
            if self.limit_type == LimitType.URGENT_HOURS
            else LimitType.WORK_HOURS
        )
        default = self.dispatch_limit_hours if step == Step.DISPATCH else self.verify_limit_hours
        return hours_type, float(override.get(step, default))


class RoutingRule(TimeStampedModel):
    """One line of the responsibility list (权责清单): this category in this region (and
    everything under it) belongs to this department. The rule of the most specific region
    wins; a rule on a major class applies to all its minor classes, below a minor-class rule
    of the same region."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="routing_rules", verbose_name=_("类别")
    )
    region = models.ForeignKey(
        "grids.Region", on_delete=models.CASCADE, related_name="+", verbose_name=_("区域")
    )
    department = models.ForeignKey(
        "grids.Department", on_delete=models.CASCADE, related_name="+", verbose_name=_("责任部门")
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("权责清单")
        verbose_name_plural = _("权责清单")
        constraints = [
            models.UniqueConstraint(fields=["category", "region"], name="one_rule_per_region"),
        ]

    def __str__(self) -> str:
        return f"{self.category} @ {self.region.name} → {self.department}"
