"""Household visits (走访): who went, when, where (GPS), to whom, what was found."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import VisitTarget
from .base import ScopedModel


class Visit(ScopedModel):
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="registry_visits",
        verbose_name=_("走访人"),
    )
    visited_at = models.DateTimeField(_("走访时间"), db_index=True)
    target_kind = models.CharField(_("对象类型"), max_length=16, choices=VisitTarget.choices)
    # A visit to a person also names their household, so it counts for household coverage.
    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, null=True, blank=True, related_name="visits"
    )
    person = models.ForeignKey(
        "registry.Person", on_delete=models.CASCADE, null=True, blank=True, related_name="visits"
    )
    organisation = models.ForeignKey(
        "registry.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="visits",
    )
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    accuracy_m = models.FloatField(_("定位精度(米)"), null=True, blank=True)
    findings = models.TextField(_("走访情况"), blank=True)
    problem_found = models.BooleanField(_("发现问题"), default=False)

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        indexes = [models.Index(fields=["household", "visited_at"], name="visit_household_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_kind="household", household__isnull=False)
                | Q(target_kind="person", person__isnull=False)
                | Q(target_kind="organisation", organisation__isnull=False),
                name="visit_has_target",
            )
        ]

    def __str__(self) -> str:
        return f"走访 #{self.pk} {self.visited_at:%Y-%m-%d}"
