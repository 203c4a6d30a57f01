"""The working-time clock: deadlines in work hours and work days that honour Chinese statutory
holidays and make-up working days (调休), from the editable `Holiday` table.

Why a table and not the package directly: `chinesecalendar` raises for years it does not know
and the `holidays` package silently lacks make-up days, while a street office must be able to
correct a day itself. The table is seeded from the package (`manage.py holidays_sync`).

Why "provisional": a year with no holiday row has no published calendar. Deadlines that reach
into such a year are computed on plain weekdays and returned with `provisional=True`, so that
screens can say so instead of being silently wrong (DESIGN.md §3).

Working hours come from `settings.WORK_HOURS` (local times in `settings.TIME_ZONE`), e.g.
``(("08:30", "12:00"), ("13:30", "17:30"))``. One work day is the sum of those segments
(7.5 h by default), so "3 work days" from a datetime is 22.5 working hours later; from a
date it is the third working day after it.

The holiday set is cached per process. It is reloaded when `clear_cache()` is called (the
sync command and the model's save/delete signals do) and otherwise re-checked against a
cheap fingerprint (row count, newest `updated_at`) at most every `WORKTIME_CACHE_SECONDS`,
so an edit made in another process is seen within that time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings

DEFAULT_WORK_HOURS = (("08:30", "12:00"), ("13:30", "17:30"))
DEFAULT_CACHE_SECONDS = 30.0
MAX_SCAN_DAYS = 3660  # ten years: a guard against an all-holiday table looping for ever


class LimitType:
    """The four kinds of time limit of a category (DESIGN.md §3)."""

    URGENT_HOURS = "urgent_hours"  # round-the-clock hours (emergencies)
    WORK_HOURS = "work_hours"
    WORK_DAYS = "work_days"
    NATURAL_DAYS = "natural_days"

    WORKING = frozenset({WORK_HOURS, WORK_DAYS})
    ALL = frozenset({URGENT_HOURS, WORK_HOURS, WORK_DAYS, NATURAL_DAYS})


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime
    provisional: bool = False


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    published_years: frozenset[int]

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5


@dataclass
class _Cache:
    calendar: Calendar | None = None
    fingerprint: tuple | None = None
    check_at: float = 0.0
    lock: threading.Lock = threading.Lock()


_CACHE = _Cache()


def _fingerprint() -> tuple:
    from django.db.models import Count, Max

    from .models import Holiday

    agg = Holiday.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    return agg["n"], agg["last"]


def _load() -> Calendar:
    from .models import Holiday, HolidayKind

    holidays, workdays = set(), set()
    for day, kind in Holiday.objects.values_list("date", "kind"):
        (holidays if kind == HolidayKind.HOLIDAY else workdays).add(day)
    return Calendar(frozenset(holidays), frozenset(workdays), frozenset(d.year for d in holidays))


def calendar() -> Calendar:
    """The current holiday calendar of this process (see the module docstring on caching)."""
    now = time.monotonic()
    cal = _CACHE.calendar
    if cal is not None and now < _CACHE.check_at:
        return cal
    with _CACHE.lock:
        fp = _fingerprint()
        if _CACHE.calendar is None or fp != _CACHE.fingerprint:
            _CACHE.calendar, _CACHE.fingerprint = _load(), fp
        ttl = float(getattr(settings, "WORKTIME_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))
        _CACHE.check_at = now + ttl
        return _CACHE.calendar


def clear_cache() -> None:
    """Forget the cached calendar; the next call reloads it from the table."""
    with _CACHE.lock:
        _CACHE.calendar, _CACHE.fingerprint, _CACHE.check_at = None, None, 0.0


# --- days ------------------------------------------------------------------------------------


def is_working_day(day: dt.date) -> bool:
    return calendar().is_working_day(day)


def is_published(year: int) -> bool:
    """True when the table holds the statutory holidays of `year`."""
    return year in calendar().published_years


def add_work_days(start: dt.date | dt.datetime, n: int | float) -> dt.date | dt.datetime:
    """From a date: the n-th working day after it (n ≥ 0; 0 gives the date back).
    From a datetime: `n` work days of working time later (n × the working hours of a day)."""
    if isinstance(start, dt.datetime):
        return add_work_hours(start, n * workday_hours())
    if n < 0:
        raise ValueError("n must not be negative")
    cal, day, left = calendar(), start, int(n)
    for _ in range(MAX_SCAN_DAYS):
        if left == 0:
            return day
        day += dt.timedelta(days=1)
        if cal.is_working_day(day):
            left -= 1
    raise ValueError("no working day found within ten years")


def add_natural_days(start: dt.datetime, n: int | float) -> dt.datetime:
    return start + dt.timedelta(days=n)


def add_urgent_hours(start: dt.datetime, hours: int | float) -> dt.datetime:
    return start + dt.timedelta(hours=hours)


# --- working hours ---------------------------------------------------------------------------


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@lru_cache(maxsize=8)
def _parse_segments(raw: tuple) -> tuple[tuple[dt.time, dt.time], ...]:
    out = []
    for begin, end in raw:
        b, e = dt.time.fromisoformat(begin), dt.time.fromisoformat(end)
        if e <= b or (out and b < out[-1][1]):
            raise ValueError("WORK_HOURS must be ordered, non-overlapping segments")
        out.append((b, e))
    if not out:
        raise ValueError("WORK_HOURS must have at least one segment")
    return tuple(out)


def work_segments() -> tuple[tuple[dt.time, dt.time], ...]:
    raw = getattr(settings, "WORK_HOURS", DEFAULT_WORK_HOURS)
    return _parse_segments(tuple(tuple(s) for s in raw))


def workday_hours() -> float:
    secs = sum(_seconds(b, e) for b, e in work_segments())
    return secs / 3600


def _seconds(b: dt.time, e: dt.time) -> float:
    return (dt.datetime.combine(dt.date.min, e) - dt.datetime.combine(dt.date.min, b)).seconds


def _day_segments(day: dt.date, tz: ZoneInfo) -> list[tuple[dt.datetime, dt.datetime]]:
    return [
        (dt.datetime.combine(day, b, tzinfo=tz), dt.datetime.combine(day, e, tzinfo=tz))
        for b, e in work_segments()
    ]


def _aware(value: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("working-time arithmetic needs an aware datetime")
    return value.astimezone(tz)


def add_work_hours(start: dt.datetime, hours: int | float) -> dt.datetime:
    """`hours` of working time after `start`. A start outside working time counts from the
    next working segment; a result that lands exactly on a segment's end is that end."""
    if hours < 0:
        raise ValueError("hours must not be negative")
    tz, cal = _tz(), calendar()
    cur = _aware(start, tz)
    if hours == 0:
        return cur
    left = dt.timedelta(hours=hours)
    day = cur.date()
    for _ in range(MAX_SCAN_DAYS):
        if cal.is_working_day(day):
            for seg_begin, seg_end in _day_segments(day, tz):
                if seg_end <= cur:
                    continue
                begin = max(seg_begin, cur)
                avail = seg_end - begin
                if left <= avail:
                    return begin + left
                left -= avail
        day += dt.timedelta(days=1)
    raise ValueError("no working time found within ten years")


def work_seconds_between(start: dt.datetime, end: dt.datetime) -> float:
    """Working seconds in [start, end] (0 when end ≤ start)."""
    tz, cal = _tz(), calendar()
    a, b = _aware(start, tz), _aware(end, tz)
    total, day = 0.0, a.date()
    while b > a and day <= b.date():
        if cal.is_working_day(day):
            for seg_begin, seg_end in _day_segments(day, tz):
                lo, hi = max(seg_begin, a), min(seg_end, b)
                if hi > lo:
                    total += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    return total


# --- deadlines -------------------------------------------------------------------------------


def deadline_for(start: dt.datetime, limit_type: str, amount: int | float) -> Deadline:
    """When a step that started at `start` with a limit of `amount` (in `limit_type` units)
    is due. Working-time limits that reach a year with no published calendar are
    computed on weekdays and flagged `provisional`."""
    if limit_type == LimitType.URGENT_HOURS:
        return Deadline(add_urgent_hours(start, amount))
    if limit_type == LimitType.NATURAL_DAYS:
        return Deadline(add_natural_days(start, amount))
    if limit_type == LimitType.WORK_HOURS:
        at = add_work_hours(start, amount)
    elif limit_type == LimitType.WORK_DAYS:
        at = add_work_days(start, amount)
    else:
        raise ValueError(f"unknown limit type {limit_type!r}")
    return Deadline(at, provisional=not _published_between(start, at))


def _published_between(start: dt.datetime, end: dt.datetime) -> bool:
    tz = _tz()
    years = range(_aware(start, tz).year, _aware(end, tz).year + 1)
    published = calendar().published_years
    return all(y in published for y in years)


def elapsed_share(
    start: dt.datetime, deadline: dt.datetime, now: dt.datetime, limit_type: str
) -> float:
    """How much of a step's limit has been used at `now` (0.0 = none, 1.0 = due), measured
    in the limit's own time: working time for work limits, wall-clock time otherwise."""
    if limit_type in LimitType.WORKING:
        total = work_seconds_between(start, deadline)
        used = work_seconds_between(start, now)
    else:
        total = (deadline - start).total_seconds()
        used = (now - start).total_seconds()
    if total <= 0:
        return 0.0 if now <= deadline else float("inf")
    return max(0.0, used / total)
