"""The Hexia registry demo, on top of the regions made by `manage.py seed_demo`.

Buildings, rooms, households, people (IDs and phones encrypted, blind-indexed), special-group
tags, organisations, components, the 11 work areas with 21,000+ records, and four months of
visits — all drawn from one `random.Random(seed)` in a fixed order, so two runs on empty
databases give the same rows. Written with `bulk_create` in one transaction, with the
encryption precomputed per row (tens of microseconds each), so it takes seconds on SQLite.
Rows are demo fixtures, not user acts, so they are not audited row by row; one audit row
records the seeding itself.

Idempotent: if any building already exists under the street, nothing is written.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from stdnum.cn import ric, uscc

from civicgrid.core import crypto
from civicgrid.core.audit import audit_record
from civicgrid.grids.demo import GIVEN, MOBILE_PREFIXES, SURNAMES
from civicgrid.grids.models import GridPost, Region

from . import defaults
from .choices import COMPONENT_MINORS, TAG_SPECS, ComponentState, TagKind
from .models import (
    ID_PURPOSE,
    PHONE_PURPOSE,
    Building,
    Component,
    Household,
    Organisation,
    Person,
    PersonTag,
    Record,
    RecordType,
    Room,
    Visit,
)

DEFAULT_SEED = 2019
STREET_CODE = "320803001"
RECORD_TARGET = 21_600
VISIT_DAYS = 120
HOME_REGIONS = ("320803",) * 8 + ("320802", "320804", "320811", "320812")
FLOATING_REGIONS = ("341322", "341321", "410523", "320923", "321322", "342201", "511621")
STREETS = ("估衣街", "湖嘴街", "花巷", "竹巷街", "茶巷", "罗家桥", "粉章巷", "摇铃巷", "打铜巷")
SHOP_NAMES = ("茶食店", "文楼汤包", "小吃店", "便利店", "药房", "理发店", "五金店", "书画社",
              "烧饼铺", "茶社", "服装店", "水果店")  # fmt: skip
FIRMS = ("科技有限公司", "贸易有限公司", "文化传媒有限公司", "建筑工程有限公司", "物业服务有限公司")


@dataclass
class DemoResult:
    created: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.created.values())


@dataclass
class Ctx:
    rng: random.Random
    now: dt.datetime
    today: dt.date
    units: list[Region]
    grid_type: dict[int, str]  # unit id → parent grid type
    visitors: dict[int, list[int]]  # unit id → user ids of the grid's staff
    used_ids: set[str] = field(default_factory=set)
    serial: Counter = field(default_factory=Counter)


def registry_demo_exists() -> bool:
    street = Region.objects.filter(code=STREET_CODE).first()
    return (
        street is not None and Building.objects.filter(unit_path__startswith=street.path).exists()
    )


def seed_registry_demo(*, seed: int = DEFAULT_SEED) -> DemoResult:
    result = DemoResult()
    defaults.install()
    defaults.link_departments()
    street = Region.objects.filter(code=STREET_CODE).first()
    if street is None:
        raise RuntimeError("请先运行 manage.py seed_demo 生成河下街道网格")
    if registry_demo_exists():
        return result
    ctx = _context(street, seed)
    with transaction.atomic():
        buildings, rooms = _places(ctx, result)
        households, people = _people(ctx, rooms, result)
        tagged = _tags(ctx, people, result)
        orgs = _organisations(ctx, buildings, result)
        comps = _components(ctx, result)
        subjects = {"person": people, "household": households, "building": buildings,
                    "organisation": orgs, "component": comps}  # fmt: skip
        _records(ctx, subjects, result)
        _visits(ctx, households, tagged, orgs, result)
        audit_record(action="create", object_type="registry.demo", object_id=str(seed),
                     object_repr="河下街道登记演示数据", changes=dict(result.created))  # fmt: skip
    return result


def _context(street: Region, seed: int) -> Ctx:
    now = timezone.now().replace(microsecond=0)
    units = list(
        Region.objects.filter(level="unit", path__startswith=street.path)
        .select_related("parent").order_by("code")
    )  # fmt: skip
    staff: dict[int, list[int]] = {}
    for grid_id, user_id in GridPost.objects.filter(is_active=True).values_list(
        "grid_id", "user_id"
    ):
        staff.setdefault(grid_id, []).append(user_id)
    return Ctx(
        rng=random.Random(seed), now=now, today=timezone.localdate(now), units=units,
        grid_type={u.pk: u.parent.grid_type for u in units},
        visitors={u.pk: sorted(staff.get(u.parent_id, [])) for u in units},
    )  # fmt: skip


def _point(ctx: Ctx, unit: Region) -> tuple[float | None, float | None]:
    if unit.centroid_lat is None:
        return None, None
    return (round(unit.centroid_lat + ctx.rng.uniform(-7e-4, 7e-4), 6),
            round(unit.centroid_lng + ctx.rng.uniform(-7e-4, 7e-4), 6))  # fmt: skip


def _scoped(unit: Region) -> dict[str, Any]:
    return {"unit_id": unit.pk, "unit_path": unit.path}


# --- places ---------------------------------------------------------------------------------


def _places(ctx: Ctx, result: DemoResult) -> tuple[list[Building], list[Room]]:
    buildings: list[Building] = []
    for n, unit in enumerate(ctx.units):
        kind = ctx.grid_type[unit.pk]
        street = STREETS[n % len(STREETS)]
        count = {"residential": 5, "business": 3, "building": 2}.get(kind, 4)
        use = {"residential": "residential", "business": "commercial", "building": "office"}
        for b in range(1, count + 1):
            lat, lng = _point(ctx, unit)
            number = f"{unit.code[-2:]}{b:02d}"
            buildings.append(Building(
                name=f"{street}{number}号楼", number=number, address=f"{street}{n * 10 + b}号",
                floors=ctx.rng.choice((4, 5, 6, 6, 7)) if kind == "residential" else 12,
                use=use.get(kind, "mixed"), lat=lat, lng=lng, **_scoped(unit),
            ))  # fmt: skip
    Building.objects.bulk_create(buildings, batch_size=500)
    rooms = []
    for b in buildings:
        if b.use != "residential":
            continue
        for entrance in ("1", "2"):
            for floor in range(1, b.floors + 1):
                for door in (1, 2):
                    rooms.append(Room(building=b, entrance=entrance, floor=floor,
                                      number=f"{floor}{door:02d}", unit_id=b.unit_id,
                                      unit_path=b.unit_path))  # fmt: skip
    Room.objects.bulk_create(rooms, batch_size=1000)
    result.created.update(buildings=len(buildings), rooms=len(rooms))
    return buildings, rooms


# --- people ---------------------------------------------------------------------------------


def _id_number(ctx: Ctx, birth: dt.date, male: bool, floating: bool) -> str:
    regions = FLOATING_REGIONS if floating else HOME_REGIONS
    while True:
        seq = ctx.rng.randrange(0, 500) * 2 + (1 if male else 0)
        body = f"{ctx.rng.choice(regions)}{birth:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in ctx.used_ids:
            ctx.used_ids.add(number)
            return number


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _birth(ctx: Ctx, age_min: int, age_max: int) -> dt.date:
    days = ctx.rng.randrange(age_min * 365, age_max * 365)
    return ctx.today - dt.timedelta(days=days)


# (relation, age range) of the members of a household, by household pattern
PATTERNS = (
    (("head", 30, 60), ("spouse", 28, 58), ("child", 1, 25)),
    (("head", 30, 60), ("spouse", 28, 58), ("child", 1, 25), ("parent", 60, 90)),
    (("head", 55, 80), ("spouse", 55, 80)),
    (("head", 65, 95),),
    (("head", 22, 45),),
    (("head", 30, 50), ("spouse", 28, 50), ("child", 1, 18), ("child", 1, 18)),
)


def _person(ctx: Ctx, unit_room: Room, relation: str, ages: tuple[int, int], floating: bool,
            household: Household) -> Person:  # fmt: skip
    rng = ctx.rng
    male = rng.random() < 0.5
    birth = _birth(ctx, *ages)
    number = _id_number(ctx, birth, male, floating)
    phone = _phone(rng) if ages[1] > 16 and rng.random() < 0.85 else ""
    return Person(
        name=_name(rng), sex="M" if male else "F", birth_date=birth,
        id_number_enc=crypto.encrypt(number, purpose=ID_PURPOSE),
        id_number_bidx=crypto.blind_index(number, purpose=ID_PURPOSE),
        phone_enc=crypto.encrypt(phone, purpose=PHONE_PURPOSE),
        phone_bidx=crypto.blind_index(phone, purpose=PHONE_PURPOSE) if phone else "",
        residency="floating" if floating else "registered", household=household,
        relation=relation, room=unit_room, address=household.address,
        registered_address="江苏省淮安市淮安区" if not floating else "",
        unit_id=unit_room.unit_id, unit_path=unit_room.unit_path,
    )  # fmt: skip


def _people(ctx: Ctx, rooms: list[Room], result: DemoResult):
    rng = ctx.rng
    occupied = [r for r in rooms if rng.random() < 0.78]
    households = []
    for i, room in enumerate(occupied, start=1):
        households.append(Household(
            number=f"HX{i:06d}", room=room,
            address=f"{room.building.address} {room.building.number}-{room.entrance}-{room.number}",
            unit_id=room.unit_id, unit_path=room.unit_path,
        ))  # fmt: skip
    Household.objects.bulk_create(households, batch_size=1000)
    people = []
    for hh in households:
        floating = rng.random() < 0.18
        for relation, lo, hi in rng.choice(PATTERNS):
            p = _person(ctx, hh.room, relation, (lo, hi), floating, hh)
            people.append(p)
    Person.objects.bulk_create(people, batch_size=1000)
    # One UPDATE … FROM subquery instead of thousands of CASE arms.
    heads_q = Person.objects.filter(household=OuterRef("pk"), relation="head").order_by("pk")
    if households:
        Household.objects.filter(
            pk__gte=households[0].pk, pk__lte=households[-1].pk, head__isnull=True
        ).update(head=Subquery(heads_q.values("pk")[:1]))
    result.created.update(households=len(households), people=len(people))
    return households, people


def _tags(ctx: Ctx, people: list[Person], result: DemoResult) -> list[Person]:
    """Elderly living alone (one-person households of 65+), and a sprinkling of the others."""
    rng = ctx.rng
    tags, tagged = [], []
    others = [k for k in TagKind.values if k != TagKind.ELDERLY_ALONE]
    for p in people:
        age = (ctx.today - p.birth_date).days // 365
        kinds = []
        if p.relation == "head" and age >= 65 and rng.random() < 0.35:
            kinds.append(TagKind.ELDERLY_ALONE)
        if rng.random() < 0.025:
            kinds.append(rng.choice(others))
        for kind in kinds:
            spec = TAG_SPECS[kind]
            tags.append(PersonTag(
                person=p, kind=kind, data=_values(rng, list(spec.fields), ctx.today),
                visit_every_days=spec.visit_every_days,
                started_on=ctx.today - dt.timedelta(days=rng.randrange(150, 1500)),
            ))  # fmt: skip
        if kinds:
            tagged.append(p)
    PersonTag.objects.bulk_create(tags, batch_size=1000)
    result.created.update(tags=len(tags))
    return tagged


# --- organisations and components -----------------------------------------------------------


def _uscc(rng: random.Random, shop: bool) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = ("92" if shop else "91") + "320803" + "".join(rng.choice(alphabet) for _ in range(9))
    return body + uscc.calc_check_digit(body)


SPECIAL_ORGS = (
    ("school", "河下中心小学"), ("school", "河下幼儿园"), ("social", "河下志愿者协会"),
    ("social", "古镇商会"), ("alliance", "河下派出所(共建单位)"),
    ("alliance", "淮安供电公司河下营业所"), ("government", "河下街道办事处"),
)  # fmt: skip


def _firm_name(rng: random.Random) -> str:
    return f"淮安{rng.choice(('河下', '楚州', '运河', '古镇'))}{rng.choice(FIRMS)}"


def _organisations(ctx: Ctx, buildings: list[Building], result: DemoResult):
    rng = ctx.rng
    by_unit: dict[int, list[Building]] = {}
    for b in buildings:
        by_unit.setdefault(b.unit_id, []).append(b)
    orgs, codes = [], set()
    for unit in ctx.units:
        kind = ctx.grid_type[unit.pk]
        count = {"business": 12, "building": 9}.get(kind, 2)
        for _ in range(count):
            shop = kind != "building" and rng.random() < 0.8
            code = _uscc(rng, shop)
            if code in codes:
                continue
            codes.add(code)
            b = rng.choice(by_unit[unit.pk])
            name = _name(rng)[0] + rng.choice(SHOP_NAMES) if shop else _firm_name(rng)
            lat, lng = _point(ctx, unit)
            orgs.append(Organisation(
                name=name, kind="shop" if shop else "enterprise", uscc=code,
                legal_person=_name(rng), phone="0517-8" + f"{rng.randrange(10**6):06d}",
                address=b.address, building=b, employees=rng.randrange(1, 120),
                lat=lat, lng=lng, **_scoped(unit),
            ))  # fmt: skip
    for i, (kind, name) in enumerate(SPECIAL_ORGS):
        unit = ctx.units[(i * 13) % len(ctx.units)]
        b = by_unit[unit.pk][0]
        orgs.append(Organisation(name=name, kind=kind, address=b.address, building=b,
                                 **_scoped(unit)))  # fmt: skip
    Organisation.objects.bulk_create(orgs, batch_size=1000)
    result.created.update(organisations=len(orgs))
    return orgs


def _components(ctx: Ctx, result: DemoResult) -> list[Component]:
    rng = ctx.rng
    comps = []
    pairs = [
        (ma, mi, name) for ma, minors in COMPONENT_MINORS.items() for mi, name in minors.items()
    ]
    for unit in ctx.units:
        for _ in range(16):
            major, minor, name = rng.choice(pairs)
            ctx.serial[(major, minor)] += 1
            lat, lng = _point(ctx, unit)
            state = rng.choices(ComponentState.values, weights=(90, 5, 2, 2, 1))[0]
            comps.append(Component(
                code=f"320803{major}{minor}{ctx.serial[(major, minor)]:06d}", major=major,
                minor=minor, name=name, state=state, lat=lat, lng=lng, **_scoped(unit),
            ))  # fmt: skip
    Component.objects.bulk_create(comps, batch_size=1000)
    result.created.update(components=len(comps))
    return comps


# --- records and visits ---------------------------------------------------------------------


def _values(rng: random.Random, defs: list[dict], today: dt.date) -> dict[str, Any]:
    """Plausible values for generic field definitions (what the validator would accept)."""
    out: dict[str, Any] = {}
    for d in defs:
        if not d["required"] and rng.random() < 0.3:
            continue
        t = d["type"]
        if t == "choice":
            out[d["name"]] = rng.choice(d["choices"])
        elif t == "number":
            out[d["name"]] = rng.randrange(1, 12) if "数" in d["label"] else rng.randrange(50, 3000)
        elif t == "date":
            out[d["name"]] = (today - dt.timedelta(days=rng.randrange(1, 700))).isoformat()
        elif t == "bool":
            out[d["name"]] = rng.random() < 0.7
        elif t == "phone":
            out[d["name"]] = _phone(rng)
        elif t == "text":
            out[d["name"]] = rng.choice(("正常", "已登记", "情况良好", "需持续关注", _name(rng)))
    return out


# Share of the records each record type gets (they sum to RECORD_TARGET).
WEIGHTS = {
    "party_member": 5, "alliance_activity": 2, "pregnancy_followup": 3, "chronic_followup": 12,
    "dispute_mediation": 4, "key_person_check": 3, "building_patrol": 6, "elderly_allowance": 8,
    "assistance": 3, "insurance_enrolment": 12, "employment_aid": 4, "safety_inspection": 6,
    "pollution_check": 3, "component_patrol": 10, "fire_check": 5, "drill": 2,
    "civilised_household": 4, "volunteer_service": 8,
}  # fmt: skip


def _records(ctx: Ctx, subjects: dict[str, list], result: DemoResult) -> None:
    rng = ctx.rng
    types = list(RecordType.objects.filter(code__in=WEIGHTS).order_by("code"))
    total_weight = sum(WEIGHTS[t.code] for t in types)
    batch: list[Record] = []
    count = 0
    for rt in types:
        pool = subjects.get(rt.subject_kind) or []
        if not pool:
            continue
        n = RECORD_TARGET * WEIGHTS[rt.code] // total_weight + 1
        for _ in range(n):
            subject = rng.choice(pool)
            batch.append(Record(
                record_type=rt, area_id=rt.area_id, subject_kind=rt.subject_kind,
                values=_values(rng, rt.fields, ctx.today),
                occurred_on=ctx.today - dt.timedelta(days=rng.randrange(0, 365)),
                unit_id=subject.unit_id, unit_path=subject.unit_path,
                **{f"{rt.subject_kind}_id": subject.pk},
            ))  # fmt: skip
        if len(batch) > 5000:
            count += len(Record.objects.bulk_create(batch, batch_size=1000))
            batch = []
    count += len(Record.objects.bulk_create(batch, batch_size=1000))
    result.created.update(records=count)


FINDINGS = ("家中一切正常", "身体状况良好,已提醒注意防滑", "反映楼道灯不亮", "需协助办理高龄津贴",
            "反映邻居噪音", "已宣传防诈骗知识", "家属在外地,已联系", "反映下水道堵塞")  # fmt: skip


def _visit(ctx: Ctx, unit_id: int, unit_path: str, days_ago: float, **target) -> Visit | None:
    visitors = ctx.visitors.get(unit_id)
    if not visitors:
        return None
    finding = ctx.rng.choice(FINDINGS)
    return Visit(
        visitor_id=ctx.rng.choice(visitors),
        visited_at=ctx.now - dt.timedelta(days=days_ago, hours=ctx.rng.randrange(0, 8)),
        findings=finding, problem_found=finding.startswith("反映"),
        unit_id=unit_id, unit_path=unit_path, **target,
    )  # fmt: skip


def _visits(ctx: Ctx, households, tagged, orgs, result: DemoResult) -> None:
    """Households: most visited once or twice in four months; tagged people on their rhythm,
    with about one in eight now overdue so the overdue list shows something true."""
    rng = ctx.rng
    visits: list[Visit | None] = []
    for hh in households:
        for _ in range(rng.choices((0, 1, 2, 3), weights=(35, 45, 15, 5))[0]):
            days = rng.uniform(0, VISIT_DAYS)
            visits.append(_visit(ctx, hh.unit_id, hh.unit_path, days, target_kind="household",
                                 household_id=hh.pk))  # fmt: skip
    tag_every = dict(
        PersonTag.objects.filter(person__in=tagged).values_list("person_id", "visit_every_days")
    )
    for p in tagged:
        every = tag_every.get(p.pk, 30)
        lag = every * (1.5 if rng.random() < 0.12 else rng.uniform(0.1, 0.9))
        day = lag
        while day < VISIT_DAYS:
            visits.append(_visit(ctx, p.unit_id, p.unit_path, day, target_kind="person",
                                 person_id=p.pk, household_id=p.household_id))  # fmt: skip
            day += every * rng.uniform(0.7, 1.0)
    for org in orgs:
        if rng.random() < 0.4:
            visits.append(_visit(ctx, org.unit_id, org.unit_path, rng.uniform(0, VISIT_DAYS),
                                 target_kind="organisation", organisation_id=org.pk))  # fmt: skip
    rows = [v for v in visits if v is not None]
    Visit.objects.bulk_create(rows, batch_size=1000)
    result.created.update(visits=len(rows))
