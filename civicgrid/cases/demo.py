"""Hexia's case loop for the demo (`manage.py seed_cases_demo`), on top of `seed_demo`.

Adds the responsibility list, the 137 cameras, demo handlers for every department, a few
residents, and about four months of cases up to the day it runs, from every source in every
state.

Why through the real services: every case, timeline row, notification, extension and audit
row is what the product would have written, so the screens and indicators show true data.
Backdating: the services read `django.utils.timezone.now()`; `DemoClock` patches that one
function while the generator runs and moves it forward step by step (report, accept,
dispatch, …), and `case_report` also gets the time as its `now` argument. Nothing is updated
after the fact. The dates follow the day the demo is loaded (`Window`): finished cases spread
over the four months up to nine days ago, open ones over the last five days, and the clock
never passes the real time, so a demo loaded any day shows a live centre (fresh reports,
some cases about to fall due, some overdue) rather than one frozen at the date it was
written. The scheduler's escalation step runs once at the real time at the end, so overdue
open cases carry yellow and red cards.

Deterministic for a given day (one seeded generator; the dates shift with the day) and
idempotent: each part is skipped when its data is already there.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import random
from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

import shapely
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from PIL import Image
from shapely.geometry import Point

from civicgrid.accounts import services as account_services
from civicgrid.accounts.choices import Role
from civicgrid.accounts.management.commands.demo_accounts import DEMO_PASSWORD
from civicgrid.accounts.models import User
from civicgrid.core.context import acting_as
from civicgrid.grids.choices import Level, PostRole
from civicgrid.grids.models import Department, GridPost, Region

from . import services as sv
from .cameras import camera_create, camera_event_report
from .choices import Source
from .models import Camera, Case, Category, RoutingRule
from .scheduler import raise_escalations
from .seed import categories_seed

DEFAULT_SEED = 2026
TZ = dt.timezone(dt.timedelta(hours=8))
HISTORY_DAYS = (115, 9)  # finished cases: reported between 115 and 9 days before the load
OPEN_HOURS = (2, 120)  # open cases: reported between 2 and 120 hours before the load
CAMERAS = 137
STREETS = ("估衣街", "湖嘴街", "西长街", "花巷", "竹巷街", "罗家桥", "萧湖路", "文楼路",
           "相家湾路", "板闸路", "河下大街", "古淮河路", "茶巷", "粉章巷")  # fmt: skip
PHRASES = {
    "井盖缺失": "井盖没了,晚上看不清很危险", "路灯损坏": "路灯不亮好几天了",
    "暴露垃圾": "路边垃圾堆着没人清", "道路不洁": "路面很脏,有油污",
    "非法小广告": "墙上贴满小广告", "机动车乱停放": "车辆乱停堵住消防通道",
    "店外经营": "商户把摊子摆到人行道上", "下水道堵塞或破损": "下水道堵了,污水外溢",
    "施工扰民": "工地夜里施工噪声很大", "邻里纠纷": "邻居因楼道堆物发生争吵",
    "自来水管破裂": "水管爆了,路面一直冒水", "无照经营游商": "流动摊贩占道叫卖",
}  # fmt: skip
RULES = (  # (category code, region code, department code, note)
    ("C01", "320803001", "chengguan", "街道范围内井盖、路灯由城管中队先行处置"),
    ("E05", "320803001", "chengguan", "街面秩序"),
    ("E0505", "32080300100190", "gongan", "古镇商圈停车由派出所负责"),
    ("E0602", "320803001", "sifa", "邻里纠纷由司法所调解"),
    ("E07", "320803001", "gongan", "治安隐患"),
    ("E0402", "320803001", "zhujian", "供水管网"),
)
# Final state of a case → weight. Open plans are placed in the last few days.
FINISHED = {"rated": 40, "closed": 12, "rework": 6, "extended": 4, "ext_refused": 2,
            "rejected": 5, "merged": 4, "suspended": 3, "reopened": 2, "verified": 2,
            "on_spot": 4, "escalated": 2}  # fmt: skip
OPEN = {"reported": 6, "accepted": 3, "dispatched": 6, "signed": 6, "ext_pending": 2,
        "handled": 4, "returned": 2, "unlocated": 2, "duplicate": 2}  # fmt: skip
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    """The demo's dates, relative to the moment it is loaded (`Window.ending(now)`)."""

    history: tuple[dt.datetime, dt.datetime]  # finished cases are reported in here
    anchor: dt.datetime  # open cases are reported in the OPEN_HOURS before this
    ceiling: dt.datetime  # the clock never passes this (the real time): no future rows

    @classmethod
    def ending(cls, now: dt.datetime) -> Window:
        local = now.astimezone(TZ)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        first = (day - dt.timedelta(days=HISTORY_DAYS[0])).replace(hour=8)
        last = (day - dt.timedelta(days=HISTORY_DAYS[1])).replace(hour=18)
        ceiling = local - dt.timedelta(minutes=1)
        return cls((first, last), local.replace(minute=0, second=0, microsecond=0), ceiling)


class DemoClock:
    """Patches `django.utils.timezone.now` so services stamp the demo's time. A case walked
    through many steps from a recent report stops at the window's ceiling (its remaining
    steps share that minute) instead of running into the future."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.now = window.history[0]

    def at(self, when: dt.datetime) -> dt.datetime:
        self.now = min(when, self.window.ceiling)
        return self.now

    def later(self, **delta) -> dt.datetime:
        return self.at(self.now + dt.timedelta(**delta))

    @contextmanager
    def running(self):
        with mock.patch("django.utils.timezone.now", lambda: self.now.astimezone(dt.UTC)):
            yield self


@dataclass
class People:
    operator: User
    handlers: dict[str, User]
    residents: list[User]
    grid_staff: dict[str, dict[str, User]]  # grid code → post role → user


@dataclass
class Result:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n


# --- reference data ----------------------------------------------------------------------------


def rules_seed(result: Result) -> None:
    depts = {d.code: d for d in Department.objects.all()}
    for cat_code, region_code, dept_code, note in RULES:
        category = Category.objects.filter(code=cat_code).first()
        region = Region.objects.filter(code=region_code).first()
        if category and region and dept_code in depts:
            _, new = RoutingRule.objects.get_or_create(
                category=category, region=region,
                defaults={"department": depts[dept_code], "note": note},
            )  # fmt: skip
            result.add("routing_rules", new)


def _point_in(unit: Region, rng: random.Random) -> tuple[float, float]:
    geom = unit.geometry
    minx, miny, maxx, maxy = geom.bounds
    inner = shapely.buffer(geom, -0.0002) if geom.area > 1e-7 else geom
    for _ in range(200):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if inner.contains(Point(x, y)):
            return round(y, 6), round(x, 6)
    c = geom.representative_point()
    return round(c.y, 6), round(c.x, 6)


def cameras_seed(units: list[Region], rng: random.Random, result: Result) -> None:
    """河下-001 … 河下-137 spread over the unit grids (every unit has one, busy ones two)."""
    existing = set(Camera.objects.values_list("code", flat=True))
    for i in range(1, CAMERAS + 1):
        unit = units[(i - 1) % len(units)]
        lat, lng = _point_in(unit, rng)
        street = STREETS[i % len(STREETS)]
        code = f"河下-{i:03d}"
        if code not in existing:
            camera_create(code=code, name=f"{street}{unit.name[-4:]}监控", lat=lat, lng=lng,
                          address=f"{street}{rng.randint(1, 120)}号附近")  # fmt: skip
            result.add("cameras")


def _user(username: str, name: str, role: str, region: Region, dept=None) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = account_services.user_create(
            username=username, password=DEMO_PASSWORD, name=name, validate=False
        )
    account_services.role_assign(user=user, role=role, region=region, department=dept)
    return user


def people_load(street: Region) -> People:
    handlers = {"chengguan": User.objects.get(username="handler_cg")}
    for dept in Department.objects.exclude(code="chengguan"):
        handlers[dept.code] = _user(
            f"handler_{dept.code}", f"{dept.name}值班员", Role.HANDLER, dept.region, dept
        )
    residents = [User.objects.get(username="resident")]
    residents += [
        _user(f"resident_{n:02d}", f"居民{n:02d}", Role.RESIDENT, street) for n in range(1, 25)
    ]
    staff: dict[str, dict[str, User]] = {}
    for post in GridPost.objects.active().select_related("grid", "user"):
        staff.setdefault(post.grid.code, {}).setdefault(post.role, post.user)
    return People(User.objects.get(username="operator"), handlers, residents, staff)


# --- cases -------------------------------------------------------------------------------------

SOURCES = ((Source.RESIDENT, 45), (Source.GRID_WORKER, 25), (Source.CAMERA, 12),
           (Source.HOTLINE, 13), (Source.OFFICIAL, 5))  # fmt: skip
RATINGS = ((5, 60), (4, 25), (3, 8), (2, 4), (1, 3))


def _pick(rng: random.Random, weighted) -> object:
    items = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def _photo(rng: random.Random):
    from django.core.files.uploadedfile import SimpleUploadedFile

    colour = tuple(rng.randrange(60, 220) for _ in range(3))
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, "JPEG", quality=70)
    return SimpleUploadedFile("demo.jpg", out.getvalue(), "image/jpeg")


class Walker:
    """Reports one case and walks it through the services to the state its plan names."""

    def __init__(self, people: People, clock: DemoClock, rng: random.Random) -> None:
        self.p, self.clock, self.rng = people, clock, rng
        self.units = list(Region.objects.filter(level=Level.UNIT).select_related("parent"))
        cats = list(Category.objects.active().minors().exclude(name="其他"))
        self.categories = [(c, 6 if c.name in PHRASES else 1) for c in cats]
        self.cameras = list(Camera.objects.filter(is_active=True).select_related("unit"))

    # reporting ---------------------------------------------------------------------------------

    def report(self, i: int, when: dt.datetime, plan: str, like: Case | None = None) -> Case:
        rng = self.rng
        self.clock.at(when)
        source = _pick(rng, SOURCES)
        source = Source.GRID_WORKER if plan == "on_spot" else source
        source = Source.HOTLINE if plan == "unlocated" else source
        category = like.category if like else _pick(rng, self.categories)
        unit = like.unit if like else rng.choice(self.units)
        lat, lng = (like.lat, like.lng) if like else _point_in(unit, rng)
        text = like.description if like else self._text(category)
        kw = {"source": source, "title": text[:30], "description": text, "category": category,
              "lat": lat, "lng": lng, "address": text[:12], "idempotency_key": f"demo-{i:04d}",
              "now": when}  # fmt: skip
        if source == Source.CAMERA and not like:
            camera = rng.choice(self.cameras)
            snap = _photo(rng) if rng.random() < 0.5 else None
            return camera_event_report(camera=camera, category=category, snapshot=snap,
                                       description=text, idempotency_key=kw["idempotency_key"],
                                       now=when).case  # fmt: skip
        kw.update(self._who(source, unit, plan))
        if plan == "unlocated":
            kw.update(lat=None, lng=None, category=None)
        files = [_photo(rng)] if rng.random() < 0.2 else []
        return sv.case_report_with_photos(files=files, **kw).case

    def _text(self, category: Category) -> str:
        street = self.rng.choice(STREETS)
        phrase = PHRASES.get(category.name, f"{category.name},请尽快处理")
        return f"{street}{self.rng.randint(1, 160)}号附近{phrase}"

    def _who(self, source: str, unit: Region, plan: str) -> dict:
        rng = self.rng
        if source == Source.RESIDENT:
            return {"reporter": rng.choice(self.p.residents), "anonymous": rng.random() < 0.1}
        if source == Source.GRID_WORKER:
            worker = self.p.grid_staff[unit.parent.code][PostRole.FULLTIME]
            on_spot = plan == "on_spot"
            return {"reporter": worker, "handled_on_spot": on_spot,
                    "handle_note": "已会同居民当场清理" if on_spot else ""}  # fmt: skip
        phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        return {"actor": self.p.operator, "reporter_name": rng.choice("王李张刘陈") + "先生",
                "reporter_phone": phone}  # fmt: skip

    # walking -----------------------------------------------------------------------------------

    def _later(self, lo: float, hi: float) -> None:
        self.clock.later(minutes=self.rng.uniform(lo, hi) * 60)

    def _handler(self, case: Case) -> User:
        return self.p.handlers[case.department.code]

    def _verifier(self, case: Case) -> User:
        staff = self.p.grid_staff[case.unit.parent.code]
        return staff[PostRole.LEADER] if case.handled_on_spot else staff[PostRole.FULLTIME]

    def accept(self, case: Case) -> None:
        self._later(0.3, 3)
        sv.case_accept(case=case, actor=self.p.operator)

    def dispatch(self, case: Case) -> None:
        self._later(0.1, 1)
        dept = case.suggested_department or Department.objects.get(code="chengguan")
        sv.case_dispatch(case=case, actor=self.p.operator, department=dept)

    def sign(self, case: Case) -> None:
        self._later(0.5, 5)
        sv.case_sign(case=case, actor=self._handler(case))

    def handle(self, case: Case) -> None:
        self._later(3, 40)
        sv.case_handle(case=case, actor=self._handler(case), note="已到现场处置完毕")

    def verify(self, case: Case, passed: bool = True) -> None:
        self._later(1, 8)
        reason = "" if passed else "现场查看问题仍在,请返工"
        sv.case_verify(case=case, actor=self._verifier(case), passed=passed, reason=reason)

    def rate(self, case: Case) -> None:
        if case.reporter_id and case.reporter in self.p.residents:
            self._later(2, 48)
            sv.case_rate(case=case, actor=case.reporter, rating=_pick(self.rng, RATINGS),
                         comment=self.rng.choice(["", "处理很及时", "谢谢网格员"]))  # fmt: skip

    def to_signed(self, case: Case) -> None:
        self.accept(case)
        self.dispatch(case)
        self.sign(case)

    def finish(self, case: Case) -> None:
        self.handle(case)
        self.verify(case)
        self.rate(case)

    # plans: each ends the case in the state it is named after --------------------------------

    def walk(self, case: Case, plan: str) -> None:
        getattr(self, f"plan_{plan}")(case)

    def plan_reported(self, case: Case) -> None:
        pass

    plan_unlocated = plan_reported

    def plan_on_spot(self, case: Case) -> None:
        self.verify(case)

    def plan_accepted(self, case: Case) -> None:
        self.accept(case)

    def plan_dispatched(self, case: Case) -> None:
        self.accept(case)
        self.dispatch(case)

    def plan_signed(self, case: Case) -> None:
        self.to_signed(case)

    def plan_handled(self, case: Case) -> None:
        self.to_signed(case)
        self.handle(case)

    def plan_ext_pending(self, case: Case) -> None:
        self.to_signed(case)
        self._later(2, 20)
        sv.case_extend_request(case=case, actor=self._handler(case), amount=3,
                               reason="需要采购配件,预计一周到货")  # fmt: skip

    def plan_returned(self, case: Case) -> None:
        self.plan_dispatched(case)
        self._later(0.5, 4)
        sv.case_return(case=case, actor=self._handler(case), reason="不属于本部门职责,请重新派遣")

    def plan_rated(self, case: Case) -> None:
        self.to_signed(case)
        self.finish(case)

    plan_closed = plan_rated  # cases without a registered reporter stay closed

    def plan_rework(self, case: Case) -> None:
        self.to_signed(case)
        self.handle(case)
        self.verify(case, passed=False)
        self.sign(case)
        self.finish(case)

    def plan_extended(self, case: Case, approve: bool = True) -> None:
        self.plan_ext_pending(case)
        self._later(1, 6)
        reason = "" if approve else "可先临时围挡,按原期限处置"
        sv.case_extend_decide(case=case, actor=self.p.operator, approve=approve, reason=reason)
        self.finish(case)

    def plan_ext_refused(self, case: Case) -> None:
        self.plan_extended(case, approve=False)

    def plan_rejected(self, case: Case) -> None:
        self._later(0.5, 4)
        sv.case_reject(case=case, actor=self.p.operator, reason="经核实问题不存在,不予立案")

    def plan_suspended(self, case: Case) -> None:
        self.to_signed(case)
        self._later(10, 60)
        sv.case_suspend(case=case, actor=self.p.operator, reason="涉及道路改造,列入年度计划")

    def plan_verified(self, case: Case) -> None:
        self.to_signed(case)
        self.handle(case)
        with override_settings(CASES_AUTO_CLOSE_ON_VERIFY=False):
            self.verify(case)

    def plan_reopened(self, case: Case) -> None:
        self.plan_rated(case)
        if case.reporter_id is None or case.status != "rated":
            return
        self._later(4, 30)
        sv.case_reopen(case=case, actor=case.reporter, reason="问题又出现了",
                       now=self.clock.now)  # fmt: skip
        self.dispatch(case)
        self.sign(case)
        self.finish(case)

    def plan_escalated(self, case: Case) -> None:
        self.accept(case)
        self._later(0.1, 1)
        grid = case.unit.parent
        sv.case_dispatch(case=case, actor=self.p.operator, region=grid)
        staff = self.p.grid_staff[grid.code][PostRole.FULLTIME]
        self._later(1, 6)
        sv.case_sign(case=case, actor=staff)
        self._later(2, 10)
        sv.case_escalate(case=case, actor=staff, reason="需社区协调多个部门")
        self._later(1, 5)
        sv.case_sign(case=case, actor=self.p.operator)
        self._later(5, 30)
        sv.case_handle(case=case, actor=self.p.operator, note="社区协调后已解决")
        self.verify(case)

    def plan_merged(self, case: Case) -> None:
        """`case` is the survivor: a second report of the same problem is merged into it."""
        dup = self.report(self.next_index(), self.clock.now + dt.timedelta(hours=2), "dup", case)
        self._later(3, 5)
        sv.case_merge(case=dup, into=case, actor=self.p.operator, reason="同一问题重复上报")
        self.plan_rated(case)

    def plan_duplicate(self, case: Case) -> None:
        """A second report of an open problem, left in the queue as "疑似重复"."""
        self.report(self.next_index(), self.clock.now + dt.timedelta(hours=1), "dup", case)

    def next_index(self) -> int:
        self.extra += 1
        return 9000 + self.extra

    extra = 0


def _schedule(
    rng: random.Random, finished: int, open_: int, window: Window
) -> list[tuple[dt.datetime, str]]:
    """Every plan at least once (so every state exists at any size), the rest by weight."""
    start, end = window.history
    span = (end - start).total_seconds()
    chosen = list(FINISHED) + [_pick(rng, FINISHED) for _ in range(finished - len(FINISHED))]
    plans = []
    for plan in chosen:
        when = start + dt.timedelta(seconds=rng.uniform(0, span))
        plans.append((when.replace(hour=rng.randint(7, 21)), plan))
    for plan in list(OPEN) + [_pick(rng, OPEN) for _ in range(open_ - len(OPEN))]:
        plans.append((window.anchor - dt.timedelta(hours=rng.uniform(*OPEN_HOURS)), plan))
    return sorted(plans)


@contextmanager
def _quiet_sms():
    """Thousands of backdated "SMS" log lines help nobody; warnings still show."""
    sms = logging.getLogger("civicgrid.sms")
    level = sms.level
    sms.setLevel(logging.WARNING)
    try:
        yield
    finally:
        sms.setLevel(level)


def cases_seed(people: People, rng: random.Random, result: Result, *, finished: int,
               open_: int, window: Window) -> None:  # fmt: skip
    clock = DemoClock(window)
    with _quiet_sms():
        with clock.running(), transaction.atomic():
            walker = Walker(people, clock, rng)
            for i, (when, plan) in enumerate(_schedule(rng, finished, open_, window)):
                case = walker.report(i, when, plan)
                walker.walk(case, plan)
                result.add(f"plan:{plan}")
            result.add("cases", Case.objects.filter(idempotency_key__contains="demo-").count())


def demo_cases_exist() -> bool:
    return Case.objects.filter(idempotency_key__contains="demo-").exists()


def seed_cases_demo(
    *,
    seed: int = DEFAULT_SEED,
    finished: int = 360,
    open_: int = 90,
    now: dt.datetime | None = None,
) -> Result:
    """Everything of the case loop's demo, dated up to `now` (default: the real time);
    parts already present are skipped."""
    street = Region.objects.filter(code="320803001").first()
    if street is None:
        raise LookupError("请先运行 manage.py seed_demo 生成河下街道")
    rng = random.Random(seed)
    result = Result()
    with acting_as(None):
        created, _ = categories_seed()
        result.add("categories", created)
        rules_seed(result)
        units = list(Region.objects.filter(level=Level.UNIT).order_by("code"))
        cameras_seed(units, rng, result)
        people = people_load(street)
        if not demo_cases_exist():
            window = Window.ending(now or timezone.now())
            cases_seed(people, rng, result, finished=finished, open_=open_, window=window)
    with _quiet_sms():
        result.add("cards", raise_escalations(now or timezone.now()))
    return result
