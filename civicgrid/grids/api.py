"""Regions, locate, departments and staff posts in the JSON API.

Handlers parse input and render output only: reads go through `selectors` (so every list and
detail is cut to the caller's scope, and an object outside it answers 404 without disclosing
that it exists), writes go through `services` (validation, audit, geo-index version bump).
"""

import re
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Path, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field, field_validator

from civicgrid.accounts.models import User
from civicgrid.accounts.scope import UserScope, scope_of

from . import selectors, services
from .choices import Level, PostRole
from .models import Department, GridPost, Region

router = Router(tags=["grids"])

# ninja's own limit bound is a global setting; this keeps one page from dumping a whole city.
MAX_PAGE = int(getattr(settings, "NINJA_PAGINATION_MAX_LIMIT", 500))
CODE_PATTERN = r"^\d{6,14}$"
OUTSIDE_MESSAGE = gettext_noop("不在管辖范围内")  # translated per request
_UNSAFE_TEXT = re.compile(r"[<>\x00-\x1f\x7f]")

LevelName = Literal["district", "street", "community", "grid", "unit"]
GridTypeName = Literal["residential", "business", "building"]
PostRoleName = Literal["leader", "instructor", "fulltime", "functional", "supervisor"]
Crs = Literal["wgs84", "gcj02", "bd09"]


def paged(func):
    """`@paginate` with a hard page-size cap (limit/offset, answers {items, count})."""
    return paginate(LimitOffsetPagination, max_limit=MAX_PAGE)(func)


def _safe_text(value: str) -> str:
    """Names end up in map popups and Excel sheets: refuse markup and control characters
    outright rather than trusting every renderer to escape them."""
    value = value.strip()
    if _UNSAFE_TEXT.search(value):
        raise ValueError(_("不能包含 < > 或控制字符"))
    if not value:
        raise ValueError(_("不能为空"))
    return value


# --- schemas --------------------------------------------------------------------------------


class RegionRef(Schema):
    code: str
    name: str
    level: str


class RegionOut(Schema):
    code: str
    name: str
    level: str
    level_label: str
    grid_type: str
    grid_type_label: str
    parent_code: str | None
    area_m2: float | None
    centroid_lat: float | None
    centroid_lng: float | None
    is_active: bool

    @staticmethod
    def resolve_level_label(obj: Region) -> str:
        return str(obj.get_level_display())

    @staticmethod
    def resolve_grid_type_label(obj: Region) -> str:
        return str(obj.get_grid_type_display()) if obj.grid_type else ""

    @staticmethod
    def resolve_parent_code(obj: Region) -> str | None:
        codes = obj.ancestor_codes()
        return codes[-1] if codes else None


class RegionDetailOut(RegionOut):
    path_codes: list[str]
    parent: RegionRef | None
    children: list[str]
    bbox: list[float] | None = Field(description="[min_lng, min_lat, max_lng, max_lat]")
    geo_version: int
    boundary: dict[str, Any] | None = Field(description="GeoJSON geometry, WGS84")

    @staticmethod
    def resolve_path_codes(obj: Region) -> list[str]:
        return [c for c in obj.path.split("/") if c]

    @staticmethod
    def resolve_parent(obj: Region) -> dict[str, str] | None:
        p = obj.parent
        return {"code": p.code, "name": p.name, "level": p.level} if p else None

    @staticmethod
    def resolve_children(obj: Region) -> list[str]:
        return list(obj.children.order_by("code").values_list("code", flat=True))

    @staticmethod
    def resolve_bbox(obj: Region) -> list[float] | None:
        if obj.min_lng is None:
            return None
        return [obj.min_lng, obj.min_lat, obj.max_lng, obj.max_lat]

    @staticmethod
    def resolve_boundary(obj: Region) -> dict[str, Any] | None:
        return obj.geojson()


class RegionNode(Schema):
    code: str
    name: str
    level: str
    grid_type: str
    children: list["RegionNode"] = []


RegionNode.model_rebuild()


class RegionTreeOut(Schema):
    count: int = Field(description="number of nodes in the tree")
    roots: list[RegionNode]


class RegionFilter(Schema):
    level: LevelName | None = None
    parent: str | None = Field(None, pattern=CODE_PATTERN, description="parent region code")
    grid_type: GridTypeName | None = None
    q: str | None = Field(None, max_length=50, description="code or name contains")


class TreeFilter(Schema):
    max_level: LevelName | None = Field(None, description="stop the tree at this level")


class RegionCreateIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    level: LevelName
    code: str = Field(pattern=CODE_PATTERN, max_length=14)
    parent_code: str | None = Field(None, pattern=CODE_PATTERN, max_length=14)
    grid_type: GridTypeName | Literal[""] = ""
    boundary: dict[str, Any] | None = Field(None, description="GeoJSON Polygon/MultiPolygon")

    _name = field_validator("name")(_safe_text)


class BoundaryIn(Schema):
    boundary: dict[str, Any] = Field(description="GeoJSON Polygon/MultiPolygon, WGS84")


class LocateIn(Schema):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lng: float = Field(ge=-180, le=180, allow_inf_nan=False)
    crs: Crs = Field("wgs84", description="coordinate system of lat/lng")


class PointOut(Schema):
    lat: float
    lng: float


class LocateOut(Schema):
    inside: bool
    message: str = ""
    point: PointOut = Field(description="the point in WGS84, after any conversion")
    unit: RegionRef | None = None
    ancestors: list[RegionRef] = Field(default=[], description="root first")


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    region_code: str
    region_name: str
    phone: str
    description: str
    is_active: bool

    @staticmethod
    def resolve_region_code(obj: Department) -> str:
        return obj.region.code

    @staticmethod
    def resolve_region_name(obj: Department) -> str:
        return obj.region.name


class DepartmentFilter(Schema):
    q: str | None = Field(None, max_length=50, description="code or name contains")


class PostOut(Schema):
    id: int
    grid_code: str
    grid_name: str
    role: str
    role_label: str
    user_id: int
    user_name: str
    phone: str = Field(description="work phone, as on the grid notice board")
    department_id: int | None
    department_name: str | None
    is_active: bool

    @staticmethod
    def resolve_grid_code(obj: GridPost) -> str:
        return obj.grid.code

    @staticmethod
    def resolve_grid_name(obj: GridPost) -> str:
        return obj.grid.name

    @staticmethod
    def resolve_role_label(obj: GridPost) -> str:
        return str(obj.get_role_display())

    @staticmethod
    def resolve_user_name(obj: GridPost) -> str:
        return obj.user.display_name

    @staticmethod
    def resolve_phone(obj: GridPost) -> str:
        return obj.user.phone

    @staticmethod
    def resolve_department_name(obj: GridPost) -> str | None:
        return obj.department.name if obj.department else None


class PostFilter(Schema):
    grid: str | None = Field(None, pattern=CODE_PATTERN, description="grid code")
    role: PostRoleName | None = None
    department: int | None = Field(None, ge=1, description="department id")


class PostCreateIn(Schema):
    grid_code: str = Field(pattern=CODE_PATTERN, max_length=14)
    role: PostRoleName
    user_id: int = Field(ge=1)
    department_id: int | None = Field(None, ge=1)


# --- helpers --------------------------------------------------------------------------------


def _require_admin(request, path: str | None = None) -> UserScope:
    """Writes need an admin assignment covering `path` (or a superuser): 403 otherwise.

    Handlers call it twice: first without a path (no admin rights at all → 403), then with
    the target's path after finding it through the read scope, so that an admin asking for
    an object outside their scope gets 404 and learns nothing about its existence.
    """
    scope = scope_of(request.user)
    if not (scope.is_global or scope.admin_paths):
        raise PermissionDenied(_("需要系统管理员权限"))
    if path is not None and not scope.covers_path(path, admin=True):
        raise PermissionDenied(_("该区域不在您的管理范围内"))
    return scope


def _bad_reference(field: str, message: str):
    from civicgrid.api import ApiError

    return ApiError(400, f"unknown_{field}", message, {field: [message]})


def _filter_regions(qs: QuerySet[Region], f: RegionFilter) -> QuerySet[Region]:
    if f.level:
        qs = qs.filter(level=f.level)
    if f.parent:
        qs = qs.filter(parent__code=f.parent)
    if f.grid_type:
        qs = qs.filter(grid_type=f.grid_type)
    if f.q:
        qs = qs.filter(Q(code__contains=f.q) | Q(name__contains=f.q))
    return qs


def _build_tree(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nest rows ordered by path; a row whose parent is not in scope becomes a root."""
    by_path: dict[str, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for row in rows:
        path = row.pop("path")
        node = {**row, "children": []}
        by_path[path] = node
        parent_path = path.rstrip("/").rpartition("/")[0]
        parent = by_path.get(parent_path + "/") if parent_path else None
        (parent["children"] if parent else roots).append(node)
    return roots


def _to_wgs84(lat: float, lng: float, crs: str) -> tuple[float, float]:
    """Phones send WGS84, AMap/Tencent pickers GCJ-02, Baidu BD-09; the index is WGS84."""
    if crs == "wgs84":
        return lat, lng
    from civicgrid.core.coords import convert

    lng, lat = convert(lng, lat, src=crs, dst="wgs84")
    return lat, lng


def _ancestors(path: str) -> list[dict[str, str]]:
    codes = [c for c in path.split("/") if c]
    rows = Region.objects.filter(code__in=codes).values("code", "name", "level", "path")
    return [
        {"code": r["code"], "name": r["name"], "level": r["level"]}
        for r in sorted(rows, key=lambda r: len(r["path"]))
    ]


# --- regions --------------------------------------------------------------------------------


@router.get("/regions", response=list[RegionOut], summary="区域列表(权限范围内)")
@paged
def region_list(request, filters: Query[RegionFilter]):
    return _filter_regions(selectors.region_list(user=request.user), filters)


@router.get("/regions/tree", response=RegionTreeOut, summary="区域树(不含边界)")
def region_tree(request, filters: Query[TreeFilter]):
    """The whole scope as one nested tree. Not paginated: a tree cut into pages is not a tree;
    `max_level` bounds its size instead (e.g. `grid` leaves out the unit grids)."""
    qs = selectors.region_list(user=request.user)
    if filters.max_level:
        order = list(Level.values)
        qs = qs.filter(level__in=order[: order.index(filters.max_level) + 1])
    rows = list(qs.order_by("path").values("code", "name", "level", "grid_type", "path"))
    return {"count": len(rows), "roots": _build_tree(rows)}


@router.get("/regions/{code}", response=RegionDetailOut, summary="区域详情(含 GeoJSON 边界)")
def region_detail(request, code: Path[str]):
    region = selectors.region_get(user=request.user, code=code)
    return region


@router.get("/regions/{code}/posts", response=list[PostOut], summary="区域内的网格岗位")
@paged
def region_posts(request, code: Path[str]):
    region = selectors.region_get(user=request.user, code=code)
    qs = selectors.grid_post_list(user=request.user)
    return qs.filter(grid__path__startswith=region.path)


@router.post("/regions", response={201: RegionDetailOut}, summary="新建区域/网格(管理员)")
def region_create(request, payload: RegionCreateIn):
    scope = _require_admin(request)
    parent = None
    if payload.parent_code:
        parent = Region.objects.for_scope(scope).filter(code=payload.parent_code).first()
        if parent is None:
            raise _bad_reference("parent", _("上级区域不存在或不在您的权限范围内"))
        _require_admin(request, parent.path)
    elif not scope.is_global:
        raise PermissionDenied(_("只有超级管理员可以新建顶级区域"))
    region = services.region_create(
        name=payload.name,
        level=payload.level,
        code=payload.code,
        parent=parent,
        grid_type=payload.grid_type,
        boundary=payload.boundary,
    )
    return Status(201, region)


@router.put("/regions/{code}/boundary", response=RegionDetailOut, summary="修改边界(管理员)")
def region_set_boundary(request, code: Path[str], payload: BoundaryIn):
    _require_admin(request)
    region = selectors.region_get(user=request.user, code=code)
    _require_admin(request, region.path)
    region = services.region_set_boundary(region=region, boundary=payload.boundary)
    return region


# --- locate ---------------------------------------------------------------------------------


@router.get("/locate", response=LocateOut, summary="坐标定位到基础网格单元")
def locate_point(request, point: Query[LocateIn]):
    """Open to every signed-in user: grid codes and names are public notice-board data.

    A point outside every grid is an answer (`inside: false`), not an error.
    """
    from civicgrid.api import ApiError

    from .locator import locate  # the index module is heavy; load it on first use

    lat, lng = _to_wgs84(point.lat, point.lng, point.crs)
    try:
        found = locate(lat, lng)
    except ValueError as exc:
        details = {"reason": str(exc)}
        raise ApiError(400, "invalid_coordinates", _("坐标无效"), details) from exc
    echo = {"lat": round(lat, 7), "lng": round(lng, 7)}
    if found is None:
        return {"inside": False, "message": _(OUTSIDE_MESSAGE), "point": echo}
    chain = _ancestors(found.path)
    unit = next((r for r in chain if r["code"] == found.code), None)
    unit = unit or {"code": found.code, "name": found.name, "level": Level.UNIT.value}
    ancestors = [r for r in chain if r["code"] != found.code]
    return {"inside": True, "point": echo, "unit": unit, "ancestors": ancestors}


# --- departments ----------------------------------------------------------------------------


@router.get("/departments", response=list[DepartmentOut], summary="部门列表(权限范围内)")
@paged
def department_list(request, filters: Query[DepartmentFilter]):
    qs = selectors.department_list(user=request.user)
    if filters.q:
        qs = qs.filter(Q(code__contains=filters.q) | Q(name__contains=filters.q))
    return qs


@router.get("/departments/{dept_id}", response=DepartmentOut, summary="部门详情")
def department_detail(request, dept_id: Path[int]):
    return get_object_or_404(selectors.department_list(user=request.user), pk=dept_id)


# --- staff posts ----------------------------------------------------------------------------


@router.get("/posts", response=list[PostOut], summary="网格岗位(1+1+1+N)")
@paged
def post_list(request, filters: Query[PostFilter]):
    qs = selectors.grid_post_list(user=request.user)
    if filters.grid:
        qs = qs.filter(grid__code=filters.grid)
    if filters.role:
        qs = qs.filter(role=filters.role)
    if filters.department:
        qs = qs.filter(department_id=filters.department)
    return qs


@router.post("/posts", response={201: PostOut}, summary="任命网格岗位(管理员)")
def post_create(request, payload: PostCreateIn):
    _require_admin(request)
    grid = selectors.region_list(user=request.user).filter(code=payload.grid_code).first()
    if grid is None:
        raise _bad_reference("grid", _("网格不存在或不在您的权限范围内"))
    _require_admin(request, grid.path)
    user = User.objects.filter(pk=payload.user_id, is_active=True).first()
    if user is None:
        raise _bad_reference("user", _("人员不存在或已停用"))
    department = None
    if payload.department_id is not None:
        depts = selectors.department_list(user=request.user)
        department = depts.filter(pk=payload.department_id).first()
        if department is None:
            raise _bad_reference("department", _("部门不存在或不在您的权限范围内"))
    post = services.grid_post_assign(
        grid=grid, role=PostRole(payload.role), user=user, department=department
    )
    return Status(201, post)


@router.delete("/posts/{post_id}", response={204: None}, summary="免去网格岗位(管理员)")
def post_end(request, post_id: Path[int]):
    """Ends the post (the history row stays); the person's scoped role goes with it."""
    _require_admin(request)
    qs = GridPost.objects.for_scope(scope_of(request.user)).select_related("grid", "user")
    post = qs.filter(pk=post_id).first()
    if post is None:
        raise Http404
    _require_admin(request, post.grid.path)
    services.grid_post_end(post=post)
    return Status(204, None)


__all__ = ["router"]
