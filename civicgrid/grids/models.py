"""The region tree (district → street → community → grid → unit grid), departments, staff posts.

Boundaries are stored as WKB (compact, parsed by shapely in bulk when the locate index is
built) and served as GeoJSON. `path` is the chain of codes from the root, so a scope on any
region is one indexed prefix match.
"""

import shapely
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core.models import TimeStampedModel

from .choices import SINGLE_POSTS, GridType, Level, PostRole


class RegionQuerySet(models.QuerySet):
    def for_scope(self, scope, *, admin: bool = False):
        return self.filter(scope.path_q("path", admin=admin))

    def units(self):
        return self.filter(level=Level.UNIT)


class Region(TimeStampedModel):
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=12, choices=Level.choices, db_index=True)
    code = models.CharField(_("编码"), max_length=20, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级"),
    )
    path = models.CharField(_("路径"), max_length=255, unique=True, editable=False)
    grid_type = models.CharField(
        _("网格类型"), max_length=16, choices=GridType.choices, blank=True, db_index=True
    )
    boundary_wkb = models.BinaryField(_("边界"), null=True, blank=True, editable=False)
    area_m2 = models.FloatField(_("面积(平方米)"), null=True, blank=True, editable=False)
    centroid_lat = models.FloatField(null=True, blank=True, editable=False)
    centroid_lng = models.FloatField(null=True, blank=True, editable=False)
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    min_lng = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lng = models.FloatField(null=True, blank=True, editable=False)
    geo_version = models.BigIntegerField(_("边界版本"), default=0, db_index=True, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("区域/网格")
        verbose_name_plural = _("区域/网格")
        constraints = [
            models.CheckConstraint(
                condition=Q(level="grid") | Q(grid_type=""), name="grid_type_only_on_grids"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.code})"

    @property
    def geometry(self):
        return shapely.from_wkb(bytes(self.boundary_wkb)) if self.boundary_wkb else None

    def geojson(self) -> dict | None:
        import json

        geom = self.geometry
        return json.loads(shapely.to_geojson(geom)) if geom is not None else None

    def ancestor_codes(self) -> list[str]:
        return [c for c in self.path.split("/") if c][:-1]


class GeoIndexState(models.Model):
    """Singleton whose `version` is bumped in the same transaction as any boundary change.

    Every process compares it with the version its in-memory locate index was built from,
    so a boundary redrawn in one worker is seen by all of them at their next request.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("定位索引版本")

    def __str__(self) -> str:
        return f"geo index v{self.version}"


class DepartmentQuerySet(models.QuerySet):
    def for_scope(self, scope):
        if scope.is_global:
            return self
        # A department is visible to users whose region lies under or over the region it serves,
        # and always to its own staff.
        q = Q(pk__in=scope.department_ids)
        for path in scope.region_paths:
            q |= Q(region__path__startswith=path)
            ancestors = _ancestor_paths(path)
            if ancestors:
                q |= Q(region__path__in=ancestors)
        return self.filter(q)


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[:i]) + "/" for i in range(1, len(parts))]


class Department(TimeStampedModel):
    name = models.CharField(_("名称"), max_length=100)
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="departments", verbose_name=_("服务区域")
    )
    phone = models.CharField(_("值班电话"), max_length=20, blank=True)
    description = models.TextField(_("职责"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name


class GridPostQuerySet(models.QuerySet):
    def for_scope(self, scope):
        return self.filter(scope.path_q("grid__path"))

    def active(self):
        return self.filter(is_active=True)


class GridPost(TimeStampedModel):
    """A named person's post in a grid ("1+1+1+N"): the database allows at most one active
    leader, instructor and full-time worker per grid; functional workers need a department."""

    grid = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="posts",
        verbose_name=_("网格"),
        limit_choices_to={"level": Level.GRID},
    )
    role = models.CharField(_("岗位"), max_length=16, choices=PostRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="grid_posts",
        verbose_name=_("人员"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grid_posts",
        verbose_name=_("所属部门"),
    )
    is_active = models.BooleanField(_("在岗"), default=True)

    objects = GridPostQuerySet.as_manager()

    class Meta:
        ordering = ["grid__path", "role", "id"]
        verbose_name = _("网格岗位")
        verbose_name_plural = _("网格岗位")
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "role"],
                condition=Q(is_active=True, role__in=SINGLE_POSTS),
                name="one_active_leader_instructor_fulltime_per_grid",
            ),
            models.UniqueConstraint(
                fields=["grid", "role", "user"],
                condition=Q(is_active=True),
                name="no_duplicate_active_post",
            ),
            models.CheckConstraint(
                condition=~Q(role=PostRole.FUNCTIONAL) | Q(department__isnull=False),
                name="functional_post_needs_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grid.name} {self.get_role_display()} {self.user}"
