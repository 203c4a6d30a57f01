"""Every write to regions, boundaries, departments and staff posts.

Boundary changes bump `GeoIndexState.version` in the same transaction, which is how every
process learns that its locate index is stale.
"""

from typing import Any

import shapely
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from civicgrid.accounts import services as account_services
from civicgrid.accounts.choices import Role
from civicgrid.core.audit import audit_record, diff, snapshot
from civicgrid.core.models import AuditAction

from . import geometry, locator
from .choices import CHILD_LEVEL, SINGLE_POSTS, GridType, Level, PostRole
from .codes import CodeError, validate_code
from .models import Department, GeoIndexState, GridPost, Region

REGION_FIELDS = ("name", "code", "level", "parent", "grid_type", "is_active", "area_m2")
POST_TO_ROLE = {
    PostRole.LEADER: Role.GRID_LEADER,
    PostRole.INSTRUCTOR: Role.GRID_INSTRUCTOR,
    PostRole.FULLTIME: Role.GRID_WORKER,
    PostRole.FUNCTIONAL: Role.FUNCTIONAL_WORKER,
    PostRole.SUPERVISOR: Role.SUPERVISOR,
}


def _check_level_and_code(*, level: str, code: str, parent: Region | None, grid_type: str) -> None:
    if level not in Level.values:
        raise ValidationError({"level": _("未知层级")})
    if parent is None and level != Level.DISTRICT and level != Level.STREET:
        raise ValidationError(
            {"parent": _("%(level)s必须有上级区域") % {"level": Level(level).label}}
        )
    if parent is not None and CHILD_LEVEL.get(parent.level) != level:
        raise ValidationError(
            {
                "parent": _("%(parent)s下不能直接建%(level)s")
                % {"parent": parent.get_level_display(), "level": Level(level).label}
            }
        )
    if grid_type and grid_type not in GridType.values:
        raise ValidationError({"grid_type": _("未知网格类型")})
    if level == Level.GRID and not grid_type:
        raise ValidationError({"grid_type": _("网格必须指定类型(村居、商圈、楼宇)")})
    if level != Level.GRID and grid_type:
        raise ValidationError({"grid_type": _("只有网格才有网格类型")})
    try:
        validate_code(code=code, level=level, parent_code=parent.code if parent else None)
    except CodeError as exc:
        raise ValidationError({"code": str(exc)}) from exc


def _bump_geo_version() -> int:
    """Move the version other processes compare their index with; this process checks at its
    next locate, in this transaction and again after it commits."""
    locator.check_now()
    transaction.on_commit(locator.check_now)
    GeoIndexState.objects.get_or_create(pk=1)
    GeoIndexState.objects.filter(pk=1).update(version=F("version") + 1)
    return GeoIndexState.objects.values_list("version", flat=True).get(pk=1)


def _validated_geometry(*, region: Region, boundary: Any):
    geom = geometry.parse_boundary(boundary)
    tol = settings.GRID_BOUNDARY_TOLERANCE_M2
    parent = region.parent
    if parent is not None and parent.boundary_wkb:
        geometry.check_inside_parent(
            geom, parent.geometry, tolerance_m2=tol, parent_name=parent.name
        )
    siblings = Region.objects.filter(parent=region.parent, level=region.level)
    siblings = siblings.exclude(pk=region.pk).exclude(boundary_wkb=None)
    geometry.check_no_overlap(geom, [(s.name, s.geometry) for s in siblings], tolerance_m2=tol)
    if region.pk is not None:
        _check_children_inside(region=region, geom=geom, tolerance_m2=tol)
    return geom


def _check_children_inside(*, region: Region, geom, tolerance_m2: float) -> None:
    """A redrawn boundary must still hold every child it had, or the tree would be inconsistent."""
    for child in region.children.exclude(boundary_wkb=None):
        outside = child.geometry.difference(geom)
        if geometry.area_m2(outside) > tolerance_m2:
            raise geometry.BoundaryError(
                _("新边界未包含下级“%(name)s”约 %(area).0f 平方米")
                % {"name": child.name, "area": geometry.area_m2(outside)},
                "child_outside",
                geometry.where(outside),
            )


def _apply_geometry(region: Region, geom) -> None:
    region.boundary_wkb = shapely.to_wkb(geom)
    region.area_m2 = round(geometry.area_m2(geom), 1)
    c = geom.representative_point()
    region.centroid_lat, region.centroid_lng = c.y, c.x
    region.min_lng, region.min_lat, region.max_lng, region.max_lat = geom.bounds
    region.geo_version = _bump_geo_version()


@transaction.atomic
def region_create(
    *,
    name: str,
    level: str,
    code: str,
    parent: Region | None = None,
    grid_type: str = "",
    boundary: Any = None,
) -> Region:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": _("名称必填,且不超过100个字符")})
    _check_level_and_code(level=level, code=code, parent=parent, grid_type=grid_type)
    if Region.objects.filter(code=code).exists():
        raise ValidationError({"code": _("编码 %(code)s 已被使用") % {"code": code}})
    region = Region(name=name, level=level, code=code, parent=parent, grid_type=grid_type)
    region.path = (parent.path if parent else "") + code + "/"
    if boundary is not None:
        _apply_geometry(region, _validated_geometry(region=region, boundary=boundary))
    try:
        with transaction.atomic():
            region.save()
    except IntegrityError as exc:
        raise ValidationError({"code": _("编码 %(code)s 已被使用") % {"code": code}}) from exc
    audit_record(action=AuditAction.CREATE, obj=region, changes=snapshot(region, REGION_FIELDS))
    return region


@transaction.atomic
def region_set_boundary(*, region: Region, boundary: Any) -> Region:
    """Replace a boundary after validating it against the parent and the siblings."""
    region = Region.objects.select_for_update().get(pk=region.pk)
    before = {"area_m2": region.area_m2, "geo_version": region.geo_version}
    _apply_geometry(region, _validated_geometry(region=region, boundary=boundary))
    region.save()
    after = {"area_m2": region.area_m2, "geo_version": region.geo_version}
    audit_record(action=AuditAction.CHANGE, obj=region, changes={"boundary": diff(before, after)})
    return region


@transaction.atomic
def region_update(
    *,
    region: Region,
    name: str | None = None,
    grid_type: str | None = None,
    is_active: bool | None = None,
) -> Region:
    """Rename or re-type a region. Codes are stable (DESIGN.md §3) and not changed here."""
    before = snapshot(region, REGION_FIELDS)
    if name is not None:
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationError({"name": _("名称必填,且不超过100个字符")})
        region.name = name
    if grid_type is not None:
        _check_level_and_code(
            level=region.level, code=region.code, parent=region.parent, grid_type=grid_type
        )
        region.grid_type = grid_type
    if is_active is not None:
        region.is_active = is_active
    changes = diff(before, snapshot(region, REGION_FIELDS))
    if region.level == Level.UNIT and {"name", "is_active"} & changes.keys():
        # The locate index answers unit names and skips inactive units: tell every process.
        region.geo_version = _bump_geo_version()
    region.save()
    if changes:
        audit_record(action=AuditAction.CHANGE, obj=region, changes=changes)
    return region


@transaction.atomic
def department_create(
    *, name: str, code: str, region: Region, phone: str = "", description: str = ""
) -> Department:
    if Department.objects.filter(code=code).exists():
        raise ValidationError({"code": _("部门代码 %(code)s 已存在") % {"code": code}})
    dept = Department(
        name=name.strip(), code=code, region=region, phone=phone, description=description
    )
    dept.full_clean()
    dept.save()
    audit_record(
        action=AuditAction.CREATE, obj=dept, changes=snapshot(dept, ("name", "code", "region"))
    )
    return dept


@transaction.atomic
def grid_post_assign(
    *, grid: Region, role: str, user, department: Department | None = None
) -> GridPost:
    """Put `user` in a post of `grid` and give them the matching scoped role."""
    if grid.level != Level.GRID:
        raise ValidationError({"grid": _("岗位只能设在网格上")})
    if role not in PostRole.values:
        raise ValidationError({"role": _("未知岗位")})
    if role == PostRole.FUNCTIONAL and department is None:
        raise ValidationError({"department": _("职能网格员必须属于一个部门")})
    if (
        role in SINGLE_POSTS
        and GridPost.objects.filter(grid=grid, role=role, is_active=True).exists()
    ):
        raise ValidationError(
            {"role": _("该网格已有%(role)s,请先免去原任") % {"role": PostRole(role).label}}
        )
    try:
        with transaction.atomic():
            post = GridPost.objects.create(grid=grid, role=role, user=user, department=department)
    except IntegrityError as exc:
        raise ValidationError({"role": _("该人员已在此岗位,或该岗位已有人")}) from exc
    account_services.role_assign(
        user=user, role=POST_TO_ROLE[role], region=grid, department=department
    )
    audit_record(
        action=AuditAction.CREATE,
        obj=post,
        changes={"grid": grid.code, "role": role, "user": user.pk},
    )
    return post


@transaction.atomic
def grid_post_end(*, post: GridPost) -> None:
    """End a post (staff leave, rotate); the history row stays, the scoped role goes."""
    updated = GridPost.objects.filter(pk=post.pk, is_active=True).update(is_active=False)
    if not updated:
        raise ValidationError({"post": _("该岗位已免去")})
    post.user.assignments.filter(
        role=POST_TO_ROLE[post.role], region=post.grid, department=post.department
    ).delete()
    audit_record(action=AuditAction.CHANGE, obj=post, changes={"is_active": [True, False]})


DEPARTMENT_FIELDS = ("name", "phone", "description", "is_active")


@transaction.atomic
def department_update(*, department: Department, **changes: Any) -> Department:
    """Edit a department's name, duty phone, duties or status; its code stays (cases and
    imports refer to it)."""
    unknown = set(changes) - set(DEPARTMENT_FIELDS)
    if unknown:
        raise ValidationError(
            {"__all__": _("不能修改:%(fields)s") % {"fields": ", ".join(sorted(unknown))}}
        )
    dept = Department.objects.select_for_update().get(pk=department.pk)
    before = snapshot(dept, DEPARTMENT_FIELDS)
    for field, value in changes.items():
        setattr(dept, field, value.strip() if isinstance(value, str) else value)
    dept.full_clean()
    dept.save()
    delta = diff(before, snapshot(dept, DEPARTMENT_FIELDS))
    if delta:
        audit_record(action=AuditAction.CHANGE, obj=dept, changes=delta)
    return dept
