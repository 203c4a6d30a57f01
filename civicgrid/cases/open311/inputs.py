"""Parsing Open311 form and query parameters into checked values (400 on anything odd)."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from .render import Open311Error

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL = re.compile(r"^https?://[^\s<>\"']{1,490}$", re.IGNORECASE)
MAX_IDS = 100


def text(params, name: str, max_len: int, *, required: bool = False) -> str:
    value = (params.get(name) or "").strip()
    if required and not value:
        raise Open311Error(400, _("缺少参数 / %(name)s is required") % {"name": name})
    if len(value) > max_len:
        raise Open311Error(
            400,
            _("参数过长 / %(name)s longer than %(max)s characters")
            % {"name": name, "max": max_len},
        )
    if _CONTROL.search(value):
        raise Open311Error(
            400, _("参数含控制字符 / %(name)s contains control characters") % {"name": name}
        )
    return value


def number(params, name: str, low: float, high: float) -> float | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, _("参数无效 / %(name)s is not a number") % {"name": name}) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise Open311Error(400, _("参数超出范围 / %(name)s out of range") % {"name": name})
    return value


def position(params) -> tuple[float | None, float | None, str]:
    """lat+long, or an address_string: one of them is required by the specification."""
    lat = number(params, "lat", -90, 90)
    lng = number(params, "long", -180, 180)
    address = text(params, "address_string", 200)
    if (lat is None) != (lng is None):
        raise Open311Error(400, _("经纬度须同时提供 / lat and long must be given together"))
    if lat is None and not address:
        raise Open311Error(400, _("缺少位置 / lat & long or address_string is required"))
    return lat, lng, address


def media_url(params) -> str:
    value = text(params, "media_url", 500)
    if value and not _URL.match(value):
        raise Open311Error(400, _("图片链接无效 / media_url must be an http(s) URL"))
    return value


def flag(params, name: str) -> bool:
    value = (params.get(name) or "").strip().lower()
    if value in ("", "false", "0", "no"):
        return False
    if value in ("true", "1", "yes"):
        return True
    raise Open311Error(400, _("参数无效 / %(name)s must be true or false") % {"name": name})


def when(params, name: str) -> dt.datetime | None:
    """W3C datetime (or a plain date, taken as local midnight)."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw.replace(" ", "+"))  # '+' in a query string arrives as ' '
        if value is None:
            day = parse_date(raw)
            value = dt.datetime.combine(day, dt.time()) if day else None
    except ValueError:
        value = None
    if value is None:
        raise Open311Error(
            400, _("日期格式无效 / %(name)s must be a W3C datetime") % {"name": name}
        )
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def id_list(params, name: str, max_len: int = 20) -> list[str]:
    raw = text(params, name, MAX_IDS * (max_len + 1))
    ids = [p.strip() for p in raw.split(",") if p.strip()]
    if len(ids) > MAX_IDS or any(len(i) > max_len for i in ids):
        raise Open311Error(
            400, _("参数无效 / %(name)s: at most %(max)s ids") % {"name": name, "max": MAX_IDS}
        )
    return ids


def statuses(params) -> list[str]:
    wanted = [s.strip().lower() for s in text(params, "status", 50).split(",") if s.strip()]
    if any(s not in ("open", "closed") for s in wanted):
        raise Open311Error(400, _("状态无效 / status must be open or closed"))
    return wanted


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime


def window(params, default_days: int, max_days: int) -> Window:
    """start_date/end_date; without both, the last `default_days` days."""
    start, end = when(params, "start_date"), when(params, "end_date")
    if end is None:  # "since start_date": up to now (or an empty window for a future start)
        end = max(timezone.now(), start) if start else timezone.now()
    start = start or end - dt.timedelta(days=default_days)
    if start > end:
        raise Open311Error(400, _("开始日期晚于结束日期 / start_date after end_date"))
    if end - start > dt.timedelta(days=max_days):
        raise Open311Error(
            400, _("时间范围过长 / at most %(max)s days per query") % {"max": max_days}
        )
    return Window(start, end)
