"""Step clocks from the category's limits and the working-time clock; traffic lights."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from civicgrid.cases import services
from civicgrid.cases.choices import Light, Status
from civicgrid.cases.clock import traffic_light
from civicgrid.cases.models import Case
from civicgrid.core.holidays import holidays_sync

from .factories import IN_B, make_category, report, to_status

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def at(*args):
    return dt.datetime(*args, tzinfo=TZ)


def light_in_sql(case, now):
    return Case.objects.with_light(now).values_list("light", flat=True).get(pk=case.pk)


def test_handle_deadline_skips_the_national_day_holiday(tree, actors):
    holidays_sync(years=range(2025, 2026))
    category = make_category(tree.dept, handle=2)  # 2 work days = 15 working hours
    with time_machine.travel(at(2025, 9, 30, 9, 0), tick=False):
        case = to_status(actors, report(actors, category), tree, "dispatched")
    assert case.step == "handle" and not case.deadline_provisional
    # 30 Sep from 09:00 gives 7 h, then the holiday runs to 8 Oct; 9 Oct gives 7.5 h and the
    # last half hour falls on 10 Oct 09:00.
    assert case.step_deadline == at(2025, 10, 10, 9, 0)


def test_unpublished_year_gives_a_provisional_deadline(tree, actors):
    category = make_category(tree.dept, handle=3)
    with time_machine.travel(at(2031, 5, 6, 9, 0), tick=False):
        case = to_status(actors, report(actors, category), tree, "dispatched")
    assert case.deadline_provisional
    # 22.5 working hours on plain weekdays: 7 h on Tuesday (from 09:00), 7.5 h on Wednesday
    # and Thursday, the last half hour on Friday morning.
    assert case.step_deadline == at(2031, 5, 9, 9, 0)


def test_urgent_categories_run_round_the_clock(tree, actors):
    category = make_category(tree.dept, limit_type="urgent_hours", handle=4)
    with time_machine.travel(at(2025, 6, 7, 22, 0), tick=False):  # Saturday night
        case = to_status(actors, report(actors, category), tree, "dispatched")
    assert case.step_deadline == at(2025, 6, 8, 2, 0)


def test_area_class_limits(tree, actors):
    category = make_category(tree.dept, handle=4, area_limits={"A": {"handle": 1}})
    with time_machine.travel(at(2025, 6, 3, 9, 0), tick=False):
        core = to_status(actors, report(actors, category, point=IN_B), tree, "dispatched")
        normal = to_status(actors, report(actors, category), tree, "dispatched")
    assert core.area_class == "A" and core.step_deadline == at(
        2025, 6, 4, 9, 0
    )  # 7.5 working hours
    assert normal.step_deadline > core.step_deadline


def test_traffic_lights_over_time_in_python_and_sql(tree, actors):
    category = make_category(tree.dept, limit_type="natural_days", handle=10)
    start = at(2025, 6, 3, 9, 0)
    with time_machine.travel(start, tick=False):
        case = to_status(actors, report(actors, category), tree, "dispatched")
    for days, expected in ((0, Light.GREEN), (7.9, Light.GREEN), (8, Light.YELLOW),
                           (10, Light.YELLOW), (10.01, Light.RED)):  # fmt: skip
        now = start + dt.timedelta(days=days)
        assert traffic_light(case, now) == expected, days
        assert light_in_sql(case, now) == expected, days
    closed = to_status(actors, report(actors, category), tree, "closed")
    assert traffic_light(closed, start) == Light.NONE


def test_each_step_has_its_own_clock(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "accepted")
    assert case.step == "dispatch"
    dispatch_deadline = case.step_deadline
    services.case_dispatch(case=case, actor=actors.operator, department=tree.dept)
    assert case.step == "handle" and case.step_deadline != dispatch_deadline
    started = case.step_started_at
    services.case_sign(case=case, actor=actors.handler)
    assert case.step_started_at == started  # signing does not restart the handling clock
    services.case_handle(case=case, actor=actors.handler, note="好了")
    assert case.step == "verify" and case.status == Status.HANDLED
    services.case_verify(case=case, actor=actors.worker, passed=True)
    assert case.step == "" and case.step_deadline is None
