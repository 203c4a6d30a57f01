"""Every read of the registry, through the user's scope. Out of scope reads as "not there".

Search never decrypts rows: a full ID or phone number is normalised and looked up through
its blind index (one indexed equality); names match by prefix (indexed); addresses by
substring. Lists of people come in page order (unit grid, name, id) and are counted only up
to `COUNT_CAP`: at a million people a bare surname matches ~70,000 of them, and an exact
COUNT of those costs more than the page (docs/BENCHMARKS.md, person search).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Collate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from civicgrid.accounts.scope import scope_of
from civicgrid.core.idnumbers import IdNumberError, normalise_phone, normalise_resident_id
from civicgrid.grids.models import Region

from .choices import PersonStatus
from .models import (
    Building,
    Component,
    Household,
    Organisation,
    Person,
    PersonTag,
    PublicPlace,
    Record,
    RecordType,
    Room,
    Visit,
    WorkArea,
)
from .services.people import id_index, phone_index

MAX_QUERY = 100
COUNT_CAP = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _q(text: str | None) -> str:
    """Search text without control characters (PostgreSQL refuses NUL), trimmed and capped."""
    return _CONTROL.sub("", text or "").strip()[:MAX_QUERY]


def _scoped(model, user) -> QuerySet:
    return model.objects.for_scope(scope_of(user))


def _looks_like_id(q: str) -> str | None:
    try:
        return normalise_resident_id(q)
    except IdNumberError:
        text = q.strip().upper()
        return text if 5 <= len(text) <= 20 and text.isalnum() and any(c.isdigit() for c in text) \
            and not text.isdigit() else None  # fmt: skip


def _looks_like_phone(q: str) -> str | None:
    try:
        return normalise_phone(q)
    except IdNumberError:
        return None


def person_search_q(q: str) -> Q:
    """Full ID number → blind index; full phone → blind index; else name prefix."""
    q = _q(q)
    if not q:
        return Q()
    phone = _looks_like_phone(q)
    if phone:
        return Q(phone_bidx=phone_index(phone))
    number = _looks_like_id(q)
    if number:
        return Q(id_number_bidx=id_index(number))
    return Q(name__startswith=q)


def _scope_range(user) -> Q:
    """SQLite only: the scope's path prefixes again as ranges, which SQLite's LIKE cannot
    give the binary `(unit_path, name)` index (it needs NOCASE). Added when no name prefix
    is searched, so a list walks the scope in page order from its first row instead of
    from the first row of the table; paths are ASCII digits and "/", so the range is exact."""
    scope = scope_of(user)
    if connection.vendor != "sqlite" or scope.is_global or not scope.region_paths:
        return Q()
    q = Q()
    for path in scope.region_paths:
        q |= Q(unit_path__gte=path, unit_path__lt=path[:-1] + chr(ord(path[-1]) + 1))
    return q


def person_order() -> list:
    """The people list's order: unit grid, name, id.

    On PostgreSQL in code-point ("C") order, which is what the `(unit_path, name, id)`
    index of migration 0004 holds: that index also takes `LIKE 'x%'` on both columns,
    so "name prefix within my scope" walks it in page order and stops after the page.
    Under the usual C.UTF-8 database collation the order is the same as before; under a
    linguistic collation (zh_CN) names would otherwise sort by the locale.
    SQLite compares text by code point already."""
    if connection.vendor == "postgresql":
        return [Collate("unit_path", "C"), Collate("name", "C"), "id"]
    return ["unit_path", "name", "id"]


def capped_count(qs: QuerySet, *, cap: int | None = None) -> int:
    """How many rows, counted no further than cap + 1 (default `COUNT_CAP`): cap + 1 means
    "more than cap". COUNT over a LIMITed subquery stops at the first cap + 1 matches in
    whatever index the planner reads, instead of counting everyone called 王."""
    cap = COUNT_CAP if cap is None else cap
    return qs.select_related(None).order_by().values("pk")[: cap + 1].count()


def person_list(
    *,
    user,
    q: str = "",
    residency: str = "",
    tag: str = "",
    unit: str = "",
    address: str = "",
    status: str = "",
    household: int | None = None,
) -> QuerySet[Person]:
    qs = _scoped(Person, user).select_related("room__building", "household")
    search = person_search_q(q)
    qs = qs.filter(search)
    if "name__startswith" not in dict(search.children):
        qs = qs.filter(_scope_range(user))
    if residency:
        qs = qs.filter(residency=_q(residency))
    if status:
        qs = qs.filter(status=_q(status))
    if tag:
        qs = qs.filter(
            Exists(PersonTag.objects.active().filter(person=OuterRef("pk"), kind=_q(tag)))
        )
    if unit:
        qs = qs.filter(_under_region(_q(unit)[:20]))
    if address:
        a = _q(address)
        qs = qs.filter(Q(address__contains=a) | Q(room__building__address__contains=a))
    if household:
        qs = qs.filter(household_id=household)
    return qs.order_by(*person_order())


def person_rows(qs: QuerySet[Person], *, user, offset: int, limit: int) -> list[Person]:
    """One page of `person_list`: its ids from an index alone, then just those rows.

    Asked for whole rows in page order, SQLite reads the table row of every match before
    sorting (70,000 for 王: ~1 s at a million people); asked for ids it sorts them from the
    `(name, unit_path)` index alone. The rows are then read by primary key through the
    user's scope only (the search filters again would tempt SQLite into a range scan)."""
    ids = list(qs.values_list("pk", flat=True)[offset : offset + limit])
    found = _scoped(Person, user).select_related("room__building", "household").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def person_get(*, user, pk: int) -> Person:
    qs = _scoped(Person, user).select_related("room__building", "household", "unit")
    return get_object_or_404(qs, pk=pk)


def _path_range(path: str) -> Q:
    """Rows under region `path`, as a range of `unit_path` rather than LIKE 'path%' or a
    segment match: SQLite's LIKE cannot use the binary `unit_path` index and a segment match
    ('%/code/%') can use none, while a range walks the index from the region's first row.
    Paths are ASCII digits and "/", so the range is exact."""
    return Q(unit_path__gte=path, unit_path__lt=path[:-1] + chr(ord(path[-1]) + 1))


def _under_region(code: str) -> Q:
    """Rows under the region with this code (a unit grid, grid, community …); no such region
    matches nothing. Scope is applied by the caller's queryset as always."""
    path = Region.objects.filter(code=code).values_list("path", flat=True).first()
    return _path_range(path) if path else Q(pk__in=[])


def population_by_residency(*, user, path: str) -> dict[str, int]:
    """People on the register (在册) under region `path` that the user may see, by residency,
    in one grouped query (the map panel, J6)."""
    rows = (
        _scoped(Person, user)
        .filter(_path_range(path), status=PersonStatus.ACTIVE)
        .order_by()
        .values_list("residency")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def household_list(*, user, q: str = "") -> QuerySet[Household]:
    qs = _scoped(Household, user).select_related("room__building", "head")
    if q:
        q = _q(q)
        qs = qs.filter(Q(number__startswith=q) | Q(address__contains=q))
    return qs


def household_get(*, user, pk: int) -> Household:
    return get_object_or_404(household_list(user=user), pk=pk)


def building_list(*, user, q: str = "", unit: str = "") -> QuerySet[Building]:
    qs = _scoped(Building, user)
    if q:
        q = _q(q)
        qs = qs.filter(Q(name__contains=q) | Q(address__contains=q))
    if unit:
        qs = qs.filter(_under_region(_q(unit)[:20]))
    return qs


def building_get(*, user, pk: int) -> Building:
    return get_object_or_404(_scoped(Building, user), pk=pk)


def room_list(*, user, building: int | None = None) -> QuerySet[Room]:
    qs = _scoped(Room, user).select_related("building")
    return qs.filter(building_id=building) if building else qs


def room_get(*, user, pk: int) -> Room:
    return get_object_or_404(room_list(user=user), pk=pk)


def place_list(*, user) -> QuerySet[PublicPlace]:
    return _scoped(PublicPlace, user)


def place_get(*, user, pk: int) -> PublicPlace:
    return get_object_or_404(_scoped(PublicPlace, user), pk=pk)


def organisation_list(*, user, q: str = "", kind: str = "") -> QuerySet[Organisation]:
    qs = _scoped(Organisation, user)
    if q:
        q = _q(q)
        qs = qs.filter(Q(name__contains=q) | Q(uscc=q.upper()) | Q(address__contains=q))
    if kind:
        qs = qs.filter(kind=_q(kind))
    return qs


def organisation_get(*, user, pk: int) -> Organisation:
    return get_object_or_404(_scoped(Organisation, user), pk=pk)


def component_list(*, user, major: str = "", state: str = "", q: str = "") -> QuerySet[Component]:
    qs = _scoped(Component, user)
    if major:
        qs = qs.filter(major=_q(major))
    if state:
        qs = qs.filter(state=_q(state))
    if q:
        q = _q(q)
        qs = qs.filter(Q(code__startswith=q) | Q(name__contains=q) | Q(address__contains=q))
    return qs


def component_get(*, user, pk: int) -> Component:
    return get_object_or_404(_scoped(Component, user), pk=pk)


def work_area_list(*, user) -> QuerySet[WorkArea]:
    return WorkArea.objects.for_scope(scope_of(user)).filter(is_active=True)


def record_type_list(*, user, area: int | None = None) -> QuerySet[RecordType]:
    areas = work_area_list(user=user)
    qs = RecordType.objects.filter(area__in=areas, is_active=True).select_related("area")
    return qs.filter(area_id=area) if area else qs


def record_list(
    *, user, area: int | None = None, record_type: int | None = None, subject_kind: str = ""
) -> QuerySet[Record]:
    qs = Record.objects.for_scope(scope_of(user)).select_related("record_type", "area")
    if area:
        qs = qs.filter(area_id=area)
    if record_type:
        qs = qs.filter(record_type_id=record_type)
    if subject_kind:
        qs = qs.filter(subject_kind=_q(subject_kind))
    return qs


def record_get(*, user, pk: int) -> Record:
    return get_object_or_404(record_list(user=user), pk=pk)


def visit_list(*, user, person: int | None = None, household: int | None = None) -> QuerySet:
    qs = _scoped(Visit, user).select_related("visitor", "person", "household", "organisation")
    if person:
        qs = qs.filter(person_id=person)
    if household:
        qs = qs.filter(household_id=household)
    return qs


def person_visits(*, user, person: Person) -> QuerySet[Visit]:
    """Visits that count for a person: to them, or to their household as a whole."""
    q = Q(person=person)
    if person.household_id:
        q |= Q(household_id=person.household_id, person__isnull=True)
    return _scoped(Visit, user).filter(q).select_related("visitor")


# --- visit duties ---------------------------------------------------------------------------


@dataclass
class Duty:
    person: Person
    every_days: int
    kinds: list[str]
    last_visit: dt.datetime | None
    due: dt.date
    days_overdue: int


def _last_visit_subquery():
    """Latest visit to the person, or to their household as a whole."""
    visits = Visit.objects.filter(
        Q(person=OuterRef("pk"))
        | Q(household=OuterRef("household_id"), person__isnull=True, household__isnull=False)
    ).order_by("-visited_at")
    return Subquery(visits.values("visited_at")[:1])


def duty_queryset(*, user) -> QuerySet[Person]:
    """People with an active special-group tag, annotated with the strictest frequency,
    the tag start and their last visit."""
    active = Q(tags__ended_on__isnull=True)
    return (
        _scoped(Person, user)
        .filter(status="active", tags__ended_on__isnull=True)
        .annotate(
            every=Min("tags__visit_every_days", filter=active),
            since=Min("tags__started_on", filter=active),
            last_visit=_last_visit_subquery(),
        )
        .distinct()
    )


def overdue_duties(*, user, now: dt.datetime | None = None) -> list[Duty]:
    """People whose required visit frequency is exceeded since their last visit (or, never
    visited, since they were tagged). Filtered in the database per distinct frequency."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    base = duty_queryset(user=user)
    freqs = sorted(
        set(
            PersonTag.objects.for_scope(scope_of(user))
            .active()
            .values_list("visit_every_days", flat=True)
            .distinct()
        )
    )
    if not freqs:
        return []
    cond = Q()
    for f in freqs:
        cutoff = now - dt.timedelta(days=f)
        cond |= Q(every=f) & (
            Q(last_visit__lt=cutoff) | Q(last_visit__isnull=True, since__lt=today - dt.timedelta(f))
        )
    rows = (
        base.filter(cond)
        .select_related("room__building")
        .prefetch_related("tags")
        .order_by("unit_path", "name")
    )
    return [_duty(p, today) for p in rows]


def _duty(p: Person, today: dt.date) -> Duty:
    start = timezone.localdate(p.last_visit) if p.last_visit else p.since
    due = start + dt.timedelta(days=p.every)
    kinds = [t.get_kind_display() for t in p.tags.all() if t.ended_on is None]
    return Duty(p, p.every, kinds, p.last_visit, due, (today - due).days)


# --- coverage -------------------------------------------------------------------------------


@dataclass
class GridCoverage:
    code: str
    name: str
    households: int
    visited_30: int
    visited_90: int

    @property
    def share_30(self) -> float:
        return self.visited_30 / self.households if self.households else 0.0

    @property
    def share_90(self) -> float:
        return self.visited_90 / self.households if self.households else 0.0


def coverage_by_grid(*, user, now: dt.datetime | None = None) -> list[GridCoverage]:
    """Share of households visited in the last 30 and 90 days, per grid in scope.

    Counted per unit grid in the database, then summed per grid (a few hundred rows)."""
    now = now or timezone.now()
    per_unit = (
        _scoped(Household, user)
        .values("unit_id")
        .annotate(
            total=Count("id"),
            v30=Count("id", filter=Q(_visited(now, 30))),
            v90=Count("id", filter=Q(_visited(now, 90))),
        )
    )
    grids = {
        r.pk: r
        for r in Region.objects.for_scope(scope_of(user)).filter(level="grid").defer("boundary_wkb")
    }
    unit_grid = dict(
        Region.objects.filter(level="unit", parent_id__in=grids).values_list("pk", "parent_id")
    )
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in per_unit:
        gid = unit_grid.get(row["unit_id"])
        if gid is not None:
            s = sums[gid]
            s[0], s[1], s[2] = s[0] + row["total"], s[1] + row["v30"], s[2] + row["v90"]
    out = []
    for gid, grid in sorted(grids.items(), key=lambda kv: kv[1].code):
        total, v30, v90 = sums.get(gid, [0, 0, 0])
        out.append(GridCoverage(grid.code, grid.name, total, v30, v90))
    return out


def _visited(now: dt.datetime, days: int):
    cutoff = now - dt.timedelta(days=days)
    return Exists(
        Visit.objects.filter(household=OuterRef("pk"), visited_at__gte=cutoff, visited_at__lte=now)
    )
