"""Test helpers for the registry: valid ID numbers, users with a role, places and people."""

from __future__ import annotations

import datetime as dt
import itertools

from stdnum.cn import ric

from civicgrid.accounts import services as account_services
from civicgrid.core.testing.factories import UserFactory
from civicgrid.registry import services

_seq = itertools.count(1)


def make_id(region: str = "320803", birth: dt.date = dt.date(1950, 3, 7), sex: str = "F") -> str:
    """A valid 18-digit resident ID; a fresh sequence number each call."""
    n = next(_seq) % 500
    seq = 2 * n + (1 if sex == "M" else 0)
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def staff(role: str, region, department=None, **kwargs):
    user = UserFactory(**kwargs)
    account_services.role_assign(user=user, role=role, region=region, department=department)
    return user


def building(user, unit, number: str = "3", **kwargs):
    defaults = {"name": f"{number}号楼", "address": f"估衣街{number}号", "floors": 6}
    return services.building_create(user=user, unit=unit, number=number, **{**defaults, **kwargs})


def room(user, unit, label: str = "2-501", number: str = "3"):
    b = building(user, unit, number=number)
    entrance, no = label.split("-")
    return services.room_create(user=user, building=b, entrance=entrance, number=no)


def person(user, unit=None, **kwargs):
    defaults = {"name": "王秀英", "id_number": make_id(), "phone": "13812345678"}
    return services.person_create(user=user, unit=unit, **{**defaults, **kwargs})
