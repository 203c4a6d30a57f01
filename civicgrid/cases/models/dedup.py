"""Suspected duplicates found at intake, kept so the centre's queue can show why."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DuplicateCandidate(models.Model):
    """`case` may be the same problem as the earlier `candidate`. `score` is 0–1 (text
    similarity and closeness), `distance_m` and `similarity` are kept for display. A row
    stays after a merge or dismissal as history; `dismissed_at` marks "not a duplicate"."""

    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.CASCADE,
        related_name="duplicate_candidates",
        verbose_name=_("案件"),
        db_index=False,  # `one_link_per_pair` (case, candidate) serves lookups by case
    )
    candidate = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="+", verbose_name=_("疑似重复案件")
    )
    score = models.FloatField(_("相似度评分"))
    similarity = models.FloatField(_("文本相似度"), null=True, blank=True)
    distance_m = models.FloatField(_("距离(米)"))
    created_at = models.DateTimeField(_("发现时间"))
    dismissed_at = models.DateTimeField(_("排除时间"), null=True, blank=True)

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("疑似重复")
        verbose_name_plural = _("疑似重复")
        constraints = [
            models.UniqueConstraint(fields=["case", "candidate"], name="one_link_per_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ~ {self.candidate_id} ({self.score:.2f})"
