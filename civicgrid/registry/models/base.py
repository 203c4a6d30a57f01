"""The scoped base of every registry row: its unit grid and that unit's denormalised path.

Scope is a prefix match on `unit_path` (like `grids.Region.for_scope`), one indexed filter
with no join, however deep the region tree. Services set the path from the unit; bulk
loaders set it directly.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.core.models import TimeStampedModel


class ScopedQuerySet(models.QuerySet):
    def for_scope(self, scope):
        return self.filter(scope.path_q("unit_path"))


class ScopedModel(TimeStampedModel):
    unit = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("基础网格单元"),
        limit_choices_to={"level": "unit"},
    )
    unit_path = models.CharField(_("网格路径"), max_length=255, db_index=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.unit_id and not self.unit_path:
            self.unit_path = self.unit.path
        super().save(*args, **kwargs)
