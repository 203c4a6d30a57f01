"""Visit duties from tag frequencies, and household coverage over 30/90 days."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from civicgrid.registry import selectors, services

from .factories import make_id, person, room

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday


def _household(worker, unit, label="2-501", number="3", members=1):
    r = room(worker, unit, label, number=number)
    ms = [{"name": f"成员{i}", "id_number": make_id(), "relation": "head" if i == 0 else "child"}
          for i in range(members)]  # fmt: skip
    return services.household_create(user=worker, room=r, members=ms)


def test_elderly_weekly_duty(worker_a, unit_a):
    with time_machine.travel(T0, tick=False):
        hh = _household(worker_a, unit_a, members=2)
        grandma = hh.head
        services.person_tag_add(user=worker_a, person=grandma, kind="elderly_alone")
        assert selectors.overdue_duties(user=worker_a) == []  # tagged today: not yet due
    with time_machine.travel(T0 + dt.timedelta(days=8), tick=False):
        duties = selectors.overdue_duties(user=worker_a)
        assert [(d.person, d.every_days, d.days_overdue) for d in duties] == [(grandma, 7, 1)]
        services.visit_record(user=worker_a, target=grandma, lat=33.5, lng=119.11)
        assert selectors.overdue_duties(user=worker_a) == []
    with time_machine.travel(T0 + dt.timedelta(days=15), tick=False):
        assert selectors.overdue_duties(user=worker_a) == []  # exactly 7 days: not over
    with time_machine.travel(T0 + dt.timedelta(days=15, hours=1), tick=False):
        assert len(selectors.overdue_duties(user=worker_a)) == 1


def test_household_visit_counts_for_members_and_strictest_tag_wins(worker_a, unit_a):
    with time_machine.travel(T0, tick=False):
        hh = _household(worker_a, unit_a, members=2)
        p = hh.head
        services.person_tag_add(user=worker_a, person=p, kind="veteran",
                                started_on=dt.date(2024, 1, 1))  # fmt: skip
        services.person_tag_add(user=worker_a, person=p, kind="correction",
                                data={"correction_type": "缓刑", "end_date": "2026-01-01"},
                                started_on=dt.date(2024, 1, 1))  # fmt: skip
        duty = selectors.overdue_duties(user=worker_a)[0]
        assert duty.every_days == 7 and set(duty.kinds) == {"退役军人", "社区矫正"}
        services.visit_record(user=worker_a, target=hh)
        assert selectors.overdue_duties(user=worker_a) == []
        child = hh.members.exclude(pk=p.pk).get()
        # a visit to another member alone does not count for the head
        services.person_tag_end(user=worker_a, tag=p.tags.get(kind="correction"))
    with time_machine.travel(T0 + dt.timedelta(days=100), tick=False):
        services.visit_record(user=worker_a, target=child)
        assert [d.person for d in selectors.overdue_duties(user=worker_a)] == [p]


def test_tag_data_validated_per_kind(worker_a, unit_a):
    p = person(worker_a, unit_a)
    with pytest.raises(ValidationError) as err:
        services.person_tag_add(user=worker_a, person=p, kind="disabled", data={"level": "五级"})
    assert set(err.value.error_dict) == {"data.disability_type", "data.level"}
    with pytest.raises(ValidationError):
        services.person_tag_add(user=worker_a, person=p, kind="elderly_alone", visit_every_days=0)
    services.person_tag_add(user=worker_a, person=p, kind="elderly_alone")
    with pytest.raises(ValidationError) as err:
        services.person_tag_add(user=worker_a, person=p, kind="elderly_alone")
    assert err.value.error_dict["kind"][0].code == "duplicate"


def test_coverage_math(worker_a, worker_b, unit_a, unit_b, tree):
    with time_machine.travel(T0, tick=False):
        a1 = _household(worker_a, unit_a, "1-101", "1")
        a2 = _household(worker_a, unit_a, "1-102", "2")
        _household(worker_a, unit_a, "1-103", "4")
        _household(worker_a, unit_a, "1-104", "5")
        b1 = _household(worker_b, unit_b, "1-101", "6")
        services.visit_record(user=worker_a, target=a1)  # day 0
        services.visit_record(user=worker_b, target=b1)
    with time_machine.travel(T0 + dt.timedelta(days=45), tick=False):
        services.visit_record(user=worker_a, target=a2.head)  # a person visit counts too
        services.visit_record(user=worker_a, target=a2)  # twice is still one household
    with time_machine.travel(T0 + dt.timedelta(days=60), tick=False):
        rows = {r.code: r for r in selectors.coverage_by_grid(user=worker_a)}
        assert set(rows) == {tree.grid_a.code}
        a = rows[tree.grid_a.code]
        assert (a.households, a.visited_30, a.visited_90) == (4, 1, 2)
        assert a.share_30 == 0.25 and a.share_90 == 0.5
    with time_machine.travel(T0 + dt.timedelta(days=100), tick=False):
        a = selectors.coverage_by_grid(user=worker_a)[0]
        assert (a.visited_30, a.visited_90) == (0, 1)


def test_visit_validation(worker_a, unit_a):
    p = person(worker_a, unit_a)
    for kwargs in ({"lat": 91.0, "lng": 0.0}, {"lat": 33.5}, {"lat": float("nan"), "lng": 1.0},
                   {"findings": "x" * 6000}, {"findings": "a\x00b"},
                   {"visited_at": dt.datetime(2999, 1, 1, tzinfo=TZ)}):  # fmt: skip
        with pytest.raises(ValidationError):
            services.visit_record(user=worker_a, target=p, **kwargs)
