"""Seeding the holiday table from `chinesecalendar`, without touching administrators' rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction

from .audit import audit_record
from .models import AuditAction, Holiday, HolidayKind, HolidaySource
from .worktime import clear_cache

CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    kept_admin: int = 0
    missing_years: list[int] = field(default_factory=list)


def _package_days(years: range) -> dict[dt.date, tuple[str, str]]:
    import chinese_calendar as cc

    days: dict[dt.date, tuple[str, str]] = {}
    for source, kind, suffix in (
        (cc.holidays, HolidayKind.HOLIDAY, ""),
        (cc.workdays, HolidayKind.WORKDAY, "调休上班"),
    ):
        for day, name in source.items():
            if day.year in years:
                days[day] = (kind, CHINESE_NAMES.get(name, name) + suffix)
    return days


def holidays_sync(*, years: range) -> SyncResult:
    """Write the package's holidays and make-up days for `years`. Rows written by an
    administrator win; years the package does not know are reported, not invented."""
    wanted = _package_days(years)
    result = SyncResult()
    known_years = {d.year for d, (kind, _) in wanted.items() if kind == HolidayKind.HOLIDAY}
    result.missing_years = [y for y in years if y not in known_years]
    with transaction.atomic():
        existing = {h.date: h for h in Holiday.objects.filter(date__in=list(wanted))}
        for day, (kind, name) in sorted(wanted.items()):
            row = existing.get(day)
            if row is None:
                Holiday.objects.create(date=day, kind=kind, name=name, source=HolidaySource.PACKAGE)
                result.created += 1
            elif row.source == HolidaySource.ADMIN:
                result.kept_admin += 1
            elif (row.kind, row.name) != (kind, name):
                row.kind, row.name = kind, name
                row.save(update_fields=["kind", "name", "updated_at"])
                result.updated += 1
        if result.created or result.updated:
            audit_record(
                action=AuditAction.CHANGE,
                object_type="core.holiday",
                object_repr=f"节假日同步 {years.start}-{years.stop - 1}",
                changes={"created": result.created, "updated": result.updated},
            )
    clear_cache()
    return result
