"""The working-time clock: holidays, make-up days, provisional years, and properties."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from civicgrid.core import worktime
from civicgrid.core.holidays import holidays_sync
from civicgrid.core.models import Holiday, HolidayKind, HolidaySource

TZ = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=0, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _fresh():
    worktime.clear_cache()
    yield
    worktime.clear_cache()


@pytest.fixture
def calendar_2025(db):
    holidays_sync(years=range(2025, 2026))


@pytest.mark.django_db
def test_sync_is_idempotent_and_keeps_admin_rows():
    Holiday.objects.create(date=dt.date(2025, 10, 1), kind=HolidayKind.HOLIDAY, name="改名")
    first = holidays_sync(years=range(2025, 2026))
    assert first.created > 20 and first.kept_admin == 1 and first.missing_years == []
    again = holidays_sync(years=range(2025, 2026))
    assert (again.created, again.updated) == (0, 0)
    assert Holiday.objects.get(date=dt.date(2025, 10, 1)).name == "改名"
    assert Holiday.objects.get(date=dt.date(2025, 1, 26)).kind == HolidayKind.WORKDAY
    assert Holiday.objects.get(date=dt.date(2025, 1, 29)).name == "春节"
    assert holidays_sync(years=range(2099, 2100)).missing_years == [2099]


@pytest.mark.django_db
def test_command(capsys):
    call_command("holidays_sync", "--years", "2026-2027")
    out = capsys.readouterr().out
    assert "2027" in out and "暂定" in out
    assert Holiday.objects.filter(date__year=2026, source=HolidaySource.PACKAGE).exists()


def test_working_days_honour_holidays_and_make_up_days(calendar_2025):
    assert not worktime.is_working_day(dt.date(2025, 10, 1))  # National Day, a Wednesday
    assert worktime.is_working_day(dt.date(2025, 9, 28))  # Sunday, make-up working day
    assert worktime.is_working_day(dt.date(2025, 10, 11))  # Saturday, make-up working day
    assert not worktime.is_working_day(dt.date(2025, 10, 12))
    # From Tuesday 30 Sep: the holiday runs to 8 Oct, so the next working day is Thursday 9 Oct.
    assert worktime.add_work_days(dt.date(2025, 9, 30), 1) == dt.date(2025, 10, 9)
    assert worktime.add_work_days(dt.date(2025, 9, 30), 3) == dt.date(2025, 10, 11)


def test_work_hours_skip_lunch_nights_and_holidays(calendar_2025):
    assert worktime.add_work_hours(at(2025, 9, 29, 11, 0), 2) == at(2025, 9, 29, 14, 30)
    assert worktime.add_work_hours(at(2025, 9, 29, 20, 0), 1) == at(2025, 9, 30, 9, 30)
    # Tuesday 30 Sep 17:00 + 1 h: half an hour that day, the rest after the holiday.
    assert worktime.add_work_hours(at(2025, 9, 30, 17, 0), 1) == at(2025, 10, 9, 9, 0)
    assert worktime.add_work_days(at(2025, 9, 29, 8, 30), 1) == at(2025, 9, 29, 17, 30)


def test_deadline_types_and_provisional_years(calendar_2025):
    start = at(2025, 6, 3, 9, 0)
    assert worktime.deadline_for(start, "urgent_hours", 4) == worktime.Deadline(
        at(2025, 6, 3, 13, 0), False
    )
    assert worktime.deadline_for(start, "natural_days", 2).at == at(2025, 6, 5, 9, 0)
    assert not worktime.deadline_for(start, "work_days", 3).provisional
    late = worktime.deadline_for(at(2025, 12, 30, 9, 0), "work_days", 5)
    assert late.provisional  # reaches 2026, which has no rows in this test
    assert worktime.is_working_day(dt.date(2026, 1, 1))  # plain weekday, flagged above
    with pytest.raises(ValueError):
        worktime.deadline_for(start, "fortnights", 1)


@pytest.mark.django_db
def test_cache_sees_edits_after_clear_and_by_fingerprint(settings):
    settings.WORKTIME_CACHE_SECONDS = 3600
    day = dt.date(2031, 3, 4)
    assert worktime.is_working_day(day)
    Holiday.objects.create(date=day, kind=HolidayKind.HOLIDAY, name="特别假日")  # save clears
    assert not worktime.is_working_day(day)
    Holiday.objects.filter(date=day).delete()  # bulk delete: no signal, TTL still running
    worktime._CACHE.check_at = 0.0  # TTL elapsed
    assert worktime.is_working_day(day)


starts = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2025, 12, 20), timezones=st.just(TZ)
)
hours = st.floats(min_value=0, max_value=60, allow_nan=False).map(lambda h: round(h, 2))
SLOW = hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _in_working_time(moment: dt.datetime) -> bool:
    local = moment.astimezone(TZ)
    if not worktime.is_working_day(local.date()):
        return False
    return any(b <= local.time() <= e for b, e in worktime.work_segments())


@SLOW
@given(start=starts, h=hours)
def test_property_added_hours_are_exactly_working_time(calendar_2025, start, h):
    end = worktime.add_work_hours(start, h)
    assert end >= start
    assert worktime.work_seconds_between(start, end) == pytest.approx(h * 3600, abs=1e-3)
    if h > 0:
        assert _in_working_time(end)


@SLOW
@given(start=starts, a=hours, b=hours)
def test_property_monotonic_and_additive(calendar_2025, start, a, b):
    one = worktime.add_work_hours(start, a)
    both = worktime.add_work_hours(start, a + b)
    assert one <= both
    if b > 0:  # float hours: equal to the millisecond
        assert abs(worktime.add_work_hours(one, b) - both) < dt.timedelta(milliseconds=1)


@SLOW
@given(day=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2025, 11, 30)),
       n=st.integers(min_value=1, max_value=20))  # fmt: skip
def test_property_work_days_land_on_working_days(calendar_2025, day, n):
    end = worktime.add_work_days(day, n)
    assert worktime.is_working_day(end)
    between = [day + dt.timedelta(days=i) for i in range(1, (end - day).days + 1)]
    assert sum(worktime.is_working_day(d) for d in between) == n
