"""Surveillance points (千里眼, "看"): where each camera is and the key its device posts with."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.core.models import TimeStampedModel


def hash_device_key(raw: str) -> str:
    """Device keys are long random strings, so one SHA-256 is enough (no slow KDF needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


class CameraQuerySet(models.QuerySet):
    def for_scope(self, scope):
        """Cameras in the user's regions; cameras placed nowhere only for global users."""
        if scope.is_global:
            return self
        return self.filter(scope.path_q("path")).exclude(path="")

    def active(self):
        return self.filter(is_active=True)


class Camera(TimeStampedModel):
    """One surveillance point. `path` copies its unit grid's path, so scope is a prefix match
    exactly as for cases. Only the SHA-256 of the device key is stored; `key_prefix` lets
    operators tell keys apart without seeing them."""

    code = models.CharField(_("编号"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    address = models.CharField(_("位置描述"), max_length=200, blank=True)
    unit = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cameras",
        verbose_name=_("基础网格单元"),
    )
    path = models.CharField(_("区域路径"), max_length=255, blank=True, db_index=True)
    key_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    key_prefix = models.CharField(_("密钥前缀"), max_length=12, blank=True, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    last_event_at = models.DateTimeField(_("最近上报"), null=True, blank=True)

    objects = CameraQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("监控点位")
        verbose_name_plural = _("监控点位")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
