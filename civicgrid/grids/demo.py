"""The Hexia Street demo (DESIGN.md §5): regions, boundaries, departments, staff, demo accounts.

Two halves, so the randomness is easy to reason about:

* `build_plan(seed)` is pure: it draws every random choice (lattice jitter, names, phones) in a
  fixed order and returns plain data. Same seed → same plan, whatever is in the database.
* `apply_plan(plan)` writes the plan through the services, skipping anything already there
  (looked up by code or username). Running it twice therefore changes nothing.

Geometry: the street is an 11 × 9 lattice of jittered vertices (≈ 3 km × 2.5 km around
33.50 °N 119.14 °E). Each lattice cell is one unit grid; grids, communities and the street are
unions of cells. Neighbouring cells share the very same vertex coordinates, so units tile their
grid, grids their community and communities the street exactly, with no gaps or overlaps.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import shapely
from django.db import transaction
from shapely.geometry import Polygon, box, mapping

from civicgrid.accounts import services as account_services
from civicgrid.accounts.choices import Role
from civicgrid.accounts.management.commands.demo_accounts import DEMO_PASSWORD
from civicgrid.accounts.models import User
from civicgrid.core.context import acting_as

from . import services
from .choices import GridType, Level, PostRole
from .models import Department, GridPost, Region

DEFAULT_SEED = 2019
DISTRICT = ("320803", "淮安区")
STREET = ("320803001", "河下街道")
CENTER_LAT, CENTER_LNG = 33.50, 119.14
WIDTH_M, HEIGHT_M = 3000.0, 2500.0
COLS, ROWS = 11, 9
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LNG = 111_320.0 * math.cos(math.radians(CENTER_LAT))
VERTEX_JITTER = 0.2  # of a cell, so neighbouring cells can never fold over each other
EDGE_BEND = 0.1  # perpendicular offset of each edge's midpoint, for less ruler-straight lines


@dataclass(frozen=True)
class GridLayout:
    """An extra (non-村居) grid of a community: its cells as column and row ranges."""

    seq: str
    name: str
    grid_type: str
    cols: range
    rows: range


@dataclass(frozen=True)
class CommunityLayout:
    seq: str
    name: str
    grid_name: str  # the community-level 村居 grid, code community + "00"
    cols: range
    rows: range
    extra: tuple[GridLayout, ...] = ()


# North is row 0. Row bands of three; the column split varies per band so the map is not a
# chessboard. Cells per community: 12 12 9 / 9 15 9 / 12 9 12 = 99 unit grids.
LAYOUT: tuple[CommunityLayout, ...] = (
    CommunityLayout("201", "城西村", "城西村网格", range(0, 4), range(0, 3)),
    CommunityLayout(
        "006",
        "萧湖社区",
        "萧湖社区网格",
        range(4, 8),
        range(0, 3),
        (GridLayout("90", "萧湖商务楼宇网格", GridType.BUILDING, range(6, 8), range(2, 3)),),
    ),
    CommunityLayout("203", "板闸村", "板闸村网格", range(8, 11), range(0, 3)),
    CommunityLayout("202", "河下村", "河下村网格", range(0, 3), range(3, 6)),
    CommunityLayout(
        "001",
        "估衣街社区",
        "估衣街社区网格",
        range(3, 8),
        range(3, 6),
        (GridLayout("90", "河下古镇商圈网格", GridType.BUSINESS, range(6, 8), range(3, 6)),),
    ),
    CommunityLayout(
        "002",
        "湖嘴社区",
        "湖嘴社区网格",
        range(8, 11),
        range(3, 6),
        (GridLayout("90", "湖嘴街商圈网格", GridType.BUSINESS, range(9, 11), range(3, 5)),),
    ),
    CommunityLayout("003", "相家湾社区", "相家湾社区网格", range(0, 4), range(6, 9)),
    CommunityLayout("004", "文楼社区", "文楼社区网格", range(4, 7), range(6, 9)),
    CommunityLayout(
        "005",
        "西长街社区",
        "西长街社区网格",
        range(7, 11),
        range(6, 9),
        (GridLayout("90", "西长街楼宇网格", GridType.BUILDING, range(7, 9), range(6, 7)),),
    ),
)

# (code, name, serves the street? else the district, duty phone suffix, duties)
DEPARTMENTS: tuple[tuple[str, str, bool, str], ...] = (
    ("zongzhi", "河下街道综治办", True, "社会治安综合治理、矛盾纠纷排查调处"),
    ("minzheng", "河下街道民政办", True, "社会救助、养老服务、社区建设"),
    ("sifa", "河下司法所", True, "人民调解、社区矫正、法律援助"),
    ("gongan", "河下派出所", True, "治安管理、人口管理、警情处置"),
    ("weiji", "河下街道卫计办", True, "公共卫生、计划生育服务"),
    ("chengguan", "河下城管中队", True, "市容环境、街面秩序、违章搭建"),
    ("huanbao", "淮安区生态环境局", False, "大气、水、噪声污染监管"),
    ("shichang", "河下市场监管所", True, "无照经营、食品安全、价格监管"),
    ("zhujian", "淮安区住建局", False, "房屋安全、物业管理、施工管理"),
    ("yingji", "淮安区应急管理局", False, "安全生产、应急救援"),
    ("renshe", "河下街道人社所", True, "就业、社保、劳动保障监察"),
)
# Departments whose officers serve as functional grid workers: police and urban management
# in every grid, plus one more enforcement department in some.
FUNCTIONAL_ALWAYS = ("gongan", "chengguan")
FUNCTIONAL_SOMETIMES = ("huanbao", "shichang", "sifa")

# Demo login for every role. Grid roles take grid 1's posts; the others are scoped here.
DEMO_POST_USERNAMES = {
    PostRole.LEADER: "gridleader",
    PostRole.INSTRUCTOR: "instructor",
    PostRole.FULLTIME: "gridworker",
    PostRole.FUNCTIONAL: "functional",
    PostRole.SUPERVISOR: "supervisor",
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN = (
    "建国",
    "志强",
    "秀英",
    "桂英",
    "海燕",
    "丽娟",
    "文华",
    "晓东",
    "春梅",
    "玉兰",
    "国庆",
    "红霞",
    "伟",
    "芳",
    "敏",
    "静",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "超",
    "霞",
    "平",
    "刚",
    "娟",
    "明辉",
    "振华",
    "立新",
    "卫东",
    "雪梅",
    "小燕",
    "俊杰",
    "子涵",
    "浩然",
    "欣怡",
    "思远",
    "佳怡",
)
MOBILE_PREFIXES = ("138", "139", "150", "151", "152", "158", "159", "187", "188", "189", "180")


# --- the plan (pure) ----------------------------------------------------------------------------


@dataclass
class RegionPlan:
    code: str
    name: str
    level: str
    parent_code: str | None
    boundary: dict
    grid_type: str = ""


@dataclass
class PersonPlan:
    username: str
    name: str
    phone: str
    password: str | None = None  # None: unusable (staff log in through their own accounts)
    is_superuser: bool = False


@dataclass
class PostPlan:
    grid_code: str
    role: str
    username: str
    department: str | None = None


@dataclass
class AssignmentPlan:
    username: str
    role: str
    region_code: str
    department: str | None = None


@dataclass
class DemoPlan:
    regions: list[RegionPlan] = field(default_factory=list)
    departments: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    people: list[PersonPlan] = field(default_factory=list)
    posts: list[PostPlan] = field(default_factory=list)
    assignments: list[AssignmentPlan] = field(default_factory=list)


Point = tuple[float, float]


def _lattice(rng: random.Random) -> list[list[Point]]:
    """(COLS+1) × (ROWS+1) jittered vertices as (lng, lat), row 0 at the north edge."""
    dx = WIDTH_M / COLS / M_PER_DEG_LNG
    dy = HEIGHT_M / ROWS / M_PER_DEG_LAT
    west = CENTER_LNG - WIDTH_M / 2 / M_PER_DEG_LNG
    north = CENTER_LAT + HEIGHT_M / 2 / M_PER_DEG_LAT
    rows = []
    for j in range(ROWS + 1):
        row = []
        for i in range(COLS + 1):
            jx = rng.uniform(-VERTEX_JITTER, VERTEX_JITTER)
            jy = rng.uniform(-VERTEX_JITTER, VERTEX_JITTER)
            row.append((round(west + (i + jx) * dx, 7), round(north - (j + jy) * dy, 7)))
        rows.append(row)
    return rows


def _bent_midpoint(a: Point, b: Point, rng: random.Random) -> Point:
    """The midpoint of edge a–b pushed sideways a little; shared by both cells on the edge."""
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    # Perpendicular in metres, converted back to degrees.
    ex, ey = (b[0] - a[0]) * M_PER_DEG_LNG, (b[1] - a[1]) * M_PER_DEG_LAT
    t = rng.uniform(-EDGE_BEND, EDGE_BEND)
    return (round(mx - ey * t / M_PER_DEG_LNG, 7), round(my + ex * t / M_PER_DEG_LAT, 7))


def build_cells(rng: random.Random) -> dict[tuple[int, int], Polygon]:
    """Cell (col, row) → polygon. Every vertex and edge midpoint is computed once and shared."""
    v = _lattice(rng)
    h_mid = {(i, j): _bent_midpoint(v[j][i], v[j][i + 1], rng)
             for j in range(ROWS + 1) for i in range(COLS)}  # fmt: skip
    v_mid = {(i, j): _bent_midpoint(v[j][i], v[j + 1][i], rng)
             for j in range(ROWS) for i in range(COLS + 1)}  # fmt: skip
    cells = {}
    for j in range(ROWS):
        for i in range(COLS):
            ring = [
                v[j][i], h_mid[(i, j)], v[j][i + 1], v_mid[(i + 1, j)],
                v[j + 1][i + 1], h_mid[(i, j + 1)], v[j + 1][i], v_mid[(i, j)],
            ]  # fmt: skip
            poly = shapely.normalize(Polygon(ring))
            if not poly.is_valid:
                raise ValueError(f"demo cell {(i, j)} is not a valid polygon")
            cells[(i, j)] = poly
    return cells


def _union(polys: list[Polygon]) -> dict:
    return mapping(shapely.union_all(polys))


def _cells_of(layout: CommunityLayout | GridLayout) -> list[tuple[int, int]]:
    """The layout's cells in reading order: top→bottom, then left→right (DESIGN.md §3)."""
    return [(i, j) for j in layout.rows for i in layout.cols]


def _region_plans(cells: dict[tuple[int, int], Polygon]) -> list[RegionPlan]:
    district_code, street_code = DISTRICT[0], STREET[0]
    street_geom = shapely.union_all(list(cells.values()))
    minx, miny, maxx, maxy = street_geom.bounds
    plans = [
        RegionPlan(district_code, DISTRICT[1], Level.DISTRICT, None,
                   mapping(box(minx - 0.05, miny - 0.05, maxx + 0.05, maxy + 0.05))),
        RegionPlan(street_code, STREET[1], Level.STREET, district_code, mapping(street_geom)),
    ]  # fmt: skip
    for comm in LAYOUT:
        plans.extend(_community_plans(comm, street_code + comm.seq, cells))
    return plans


def _community_plans(
    comm: CommunityLayout, code: str, cells: dict[tuple[int, int], Polygon]
) -> list[RegionPlan]:
    comm_cells = _cells_of(comm)
    extra_of = {c: g for g in comm.extra for c in _cells_of(g)}
    grids = [(code + "00", comm.grid_name, GridType.RESIDENTIAL,
              [c for c in comm_cells if c not in extra_of])]  # fmt: skip
    grids += [(code + g.seq, g.name, g.grid_type, _cells_of(g)) for g in comm.extra]
    plans = [RegionPlan(code, comm.name, Level.COMMUNITY, STREET[0],
                        _union([cells[c] for c in comm_cells]))]  # fmt: skip
    grid_of_cell = {}
    for grid_code, name, grid_type, grid_cells in grids:
        plans.append(RegionPlan(grid_code, name, Level.GRID, code,
                                _union([cells[c] for c in grid_cells]), grid_type))  # fmt: skip
        grid_of_cell.update({c: grid_code for c in grid_cells})
    for n, cell in enumerate(comm_cells, start=1):
        plans.append(RegionPlan(f"{code}{n:02d}", f"{comm.name}{n:02d}单元", Level.UNIT,
                                grid_of_cell[cell], mapping(cells[cell])))  # fmt: skip
    return plans


def _person(rng: random.Random, username: str, password: str | None = None) -> PersonPlan:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    return PersonPlan(username, name, phone, password)


def _staff_plans(rng: random.Random, grid_codes: list[str]) -> tuple[list, list]:
    """The 1+1+1+N posts of every grid, plus 1–2 supervisors; grid 1 holds the demo logins."""
    people, posts = [], []
    for n, grid_code in enumerate(grid_codes, start=1):
        prefix = f"g{n:02d}_"
        depts = list(FUNCTIONAL_ALWAYS)
        if rng.random() < 0.6:
            depts.append(rng.choice(FUNCTIONAL_SOMETIMES))
        slots = [(PostRole.LEADER, None), (PostRole.INSTRUCTOR, None), (PostRole.FULLTIME, None)]
        slots += [(PostRole.FUNCTIONAL, d) for d in depts]
        slots += [(PostRole.SUPERVISOR, None)] * rng.randint(1, 2)
        seen: dict[str, int] = {}
        for role, dept in slots:
            seen[role] = seen.get(role, 0) + 1
            demo_name = DEMO_POST_USERNAMES.get(role) if n == 1 and seen[role] == 1 else None
            username = demo_name or f"{prefix}{role}{seen[role]}"
            people.append(_person(rng, username, DEMO_PASSWORD if demo_name else None))
            posts.append(PostPlan(grid_code, role, username, dept))
    return people, posts


def _demo_accounts(rng: random.Random, first_unit: str) -> tuple[list, list]:
    street = STREET[0]
    people = [
        PersonPlan("admin", "系统管理员", "0517-85910000", DEMO_PASSWORD, is_superuser=True),
        _person(rng, "operator", DEMO_PASSWORD),
        _person(rng, "handler_cg", DEMO_PASSWORD),
        _person(rng, "leader", DEMO_PASSWORD),
        _person(rng, "resident", DEMO_PASSWORD),
    ]
    assignments = [
        AssignmentPlan("admin", Role.ADMIN, street),
        AssignmentPlan("operator", Role.OPERATOR, street),
        AssignmentPlan("handler_cg", Role.HANDLER, street, "chengguan"),
        AssignmentPlan("leader", Role.LEADER, street),
        AssignmentPlan("resident", Role.RESIDENT, first_unit),
    ]
    return people, assignments


def build_plan(seed: int = DEFAULT_SEED) -> DemoPlan:
    """Everything the demo holds, drawn from one seeded generator in a fixed order."""
    rng = random.Random(seed)
    plan = DemoPlan(regions=_region_plans(build_cells(rng)))
    for code, name, on_street, duty in DEPARTMENTS:
        region = STREET[0] if on_street else DISTRICT[0]
        phone = f"0517-8{rng.randrange(10**6, 10**7)}"
        plan.departments.append((code, name, region, phone, duty))
    grid_codes = sorted(r.code for r in plan.regions if r.level == Level.GRID)
    plan.people, plan.posts = _staff_plans(rng, grid_codes)
    first_unit = min(r.code for r in plan.regions if r.level == Level.UNIT
                     and r.parent_code == grid_codes[0])  # fmt: skip
    people, plan.assignments = _demo_accounts(rng, first_unit)
    plan.people += people
    return plan


# --- applying the plan (service calls, idempotent) ---------------------------------------------


@dataclass
class SeedResult:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.created.values())


def _apply_regions(plan: DemoPlan, result: SeedResult) -> dict[str, Region]:
    regions = {r.code: r for r in Region.objects.filter(code__in=[p.code for p in plan.regions])}
    for p in plan.regions:  # parents come before children in the plan
        if p.code in regions:
            continue
        regions[p.code] = services.region_create(
            name=p.name, level=p.level, code=p.code, grid_type=p.grid_type,
            parent=regions[p.parent_code] if p.parent_code else None, boundary=p.boundary,
        )  # fmt: skip
        result.add("regions")
    return regions


def _apply_departments(
    plan: DemoPlan, regions: dict[str, Region], result: SeedResult
) -> dict[str, Department]:
    depts = {
        d.code: d for d in Department.objects.filter(code__in=[d[0] for d in plan.departments])
    }
    for code, name, region_code, phone, duty in plan.departments:
        if code not in depts:
            depts[code] = services.department_create(
                name=name, code=code, region=regions[region_code], phone=phone, description=duty
            )
            result.add("departments")
    return depts


class _People:
    """Users of the plan, created only when a post or an assignment needs them."""

    def __init__(self, plan: DemoPlan, result: SeedResult) -> None:
        self.plans = {p.username: p for p in plan.people}
        self.users = {u.username: u for u in User.objects.filter(username__in=self.plans)}
        self.result = result

    def get(self, username: str) -> User:
        if username not in self.users:
            p = self.plans[username]
            self.users[username] = account_services.user_create(
                username=p.username, password=p.password, name=p.name, phone=p.phone,
                is_superuser=p.is_superuser, validate=False,
            )  # fmt: skip
            self.result.add("users")
        return self.users[username]


def _apply_posts(plan: DemoPlan, ctx: tuple, result: SeedResult) -> None:
    """Staff a grid only when it has nobody yet: a grid whose staff changed since is kept."""
    regions, depts, people = ctx
    staffed = set(
        GridPost.objects.active().filter(grid__code__in={p.grid_code for p in plan.posts})
        .values_list("grid__code", flat=True)
    )  # fmt: skip
    for p in plan.posts:
        if p.grid_code in staffed:
            continue
        services.grid_post_assign(
            grid=regions[p.grid_code], role=p.role, user=people.get(p.username),
            department=depts[p.department] if p.department else None,
        )  # fmt: skip
        result.add("posts")


def _apply_assignments(plan: DemoPlan, ctx: tuple, result: SeedResult) -> None:
    regions, depts, people = ctx
    for a in plan.assignments:
        user = people.get(a.username)
        dept = depts[a.department] if a.department else None
        if user.assignments.filter(role=a.role, region=regions[a.region_code],
                                   department=dept).exists():  # fmt: skip
            continue
        account_services.role_assign(user=user, role=a.role, region=regions[a.region_code],
                                     department=dept)  # fmt: skip
        result.add("assignments")


def apply_plan(plan: DemoPlan) -> SeedResult:
    """Write `plan` through the services; anything already present is left untouched."""
    result = SeedResult()
    with acting_as(None), transaction.atomic():
        regions = _apply_regions(plan, result)
        depts = _apply_departments(plan, regions, result)
        ctx = (regions, depts, _People(plan, result))
        _apply_posts(plan, ctx, result)
        _apply_assignments(plan, ctx, result)
    return result


def seed_demo(*, seed: int = DEFAULT_SEED) -> SeedResult:
    return apply_plan(build_plan(seed))


def demo_exists() -> bool:
    """`--if-empty` leaves any database with a street alone, demo or real."""
    return Region.objects.filter(level=Level.STREET).exists()
