"""The 11 key work areas, record types with administrator-defined fields, and records."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core.models import TimeStampedModel

from ..choices import SubjectKind
from .base import ScopedModel

SUBJECT_FIELDS = {
    SubjectKind.PERSON: "person",
    SubjectKind.HOUSEHOLD: "household",
    SubjectKind.BUILDING: "building",
    SubjectKind.PLACE: "place",
    SubjectKind.ORGANISATION: "organisation",
    SubjectKind.COMPONENT: "component",
}


class WorkAreaQuerySet(models.QuerySet):
    def for_scope(self, scope):
        """Region staff see every area; a department-only user sees the areas it owns."""
        if scope.is_global or not dept_only(scope):
            return self if scope.is_global or scope.region_paths else self.none()
        return self.filter(departments__in=scope.department_ids).distinct()


def dept_only(scope) -> bool:
    """Users whose only roles are department handlers see the work of their departments."""
    return bool(scope.roles) and scope.roles <= {"handler"}


class WorkArea(TimeStampedModel):
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    description = models.TextField(_("说明"), blank=True)
    departments = models.ManyToManyField(
        "grids.Department", blank=True, related_name="work_areas", verbose_name=_("负责部门")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    objects = WorkAreaQuerySet.as_manager()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("重点工作领域")
        verbose_name_plural = _("重点工作领域")

    def __str__(self) -> str:
        return self.name


class RecordType(TimeStampedModel):
    area = models.ForeignKey(
        WorkArea, on_delete=models.PROTECT, related_name="record_types", verbose_name=_("工作领域")
    )
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    subject_kind = models.CharField(_("对象类型"), max_length=16, choices=SubjectKind.choices)
    fields = models.JSONField(_("字段定义"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["area__order", "code"]
        verbose_name = _("台账类型")
        verbose_name_plural = _("台账类型")

    def __str__(self) -> str:
        return self.name


class RecordQuerySet(models.QuerySet):
    def for_scope(self, scope):
        qs = self.filter(scope.path_q("unit_path"))
        if not scope.is_global and dept_only(scope):
            qs = qs.filter(area__departments__in=scope.department_ids).distinct()
        return qs


def _one_subject() -> Q:
    q = Q()
    for kind, field in SUBJECT_FIELDS.items():
        q |= Q(subject_kind=kind, **{f"{field}__isnull": False})
    return q


class Record(ScopedModel):
    """One entry of a work-area ledger about one person, household, place or organisation."""

    record_type = models.ForeignKey(
        RecordType, on_delete=models.PROTECT, related_name="records", verbose_name=_("台账类型")
    )
    area = models.ForeignKey(
        WorkArea, on_delete=models.PROTECT, related_name="records", verbose_name=_("工作领域")
    )
    subject_kind = models.CharField(_("对象类型"), max_length=16, choices=SubjectKind.choices)
    person = models.ForeignKey(
        "registry.Person", on_delete=models.CASCADE, null=True, blank=True, related_name="records"
    )
    household = models.ForeignKey(
        "registry.Household",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="records",
    )
    building = models.ForeignKey(
        "registry.Building", on_delete=models.CASCADE, null=True, blank=True, related_name="records"
    )
    place = models.ForeignKey(
        "registry.PublicPlace",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="records",
    )
    organisation = models.ForeignKey(
        "registry.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="records",
    )
    component = models.ForeignKey(
        "registry.Component",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="records",
    )
    values = models.JSONField(_("内容"), default=dict, blank=True)
    occurred_on = models.DateField(_("日期"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-id"]
        verbose_name = _("台账记录")
        verbose_name_plural = _("台账记录")
        constraints = [models.CheckConstraint(condition=_one_subject(), name="record_has_subject")]

    def __str__(self) -> str:
        return f"{self.record_type_id} #{self.pk}"

    @property
    def subject(self):
        return getattr(self, SUBJECT_FIELDS[self.subject_kind])
