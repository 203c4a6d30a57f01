"""Step clocks and traffic lights (DESIGN.md §3 "Step clock").

When a step starts, its yellow point (80 % of the limit), deadline (100 %) and red-card point
(150 %, `CASES_RED_CARD_SHARE`) are computed once with the working-time clock and stored on
the case. Lights and overdue lists are then plain comparisons, in Python (`traffic_light`) or
in SQL (`CaseQuerySet.with_light`), and both agree by construction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from civicgrid.core.worktime import deadline_for

from .choices import Light


@dataclass(frozen=True)
class StepClock:
    started_at: dt.datetime
    warn_at: dt.datetime
    deadline: dt.datetime
    red_at: dt.datetime
    provisional: bool

    def as_fields(self, step: str) -> dict:
        return {
            "step": step,
            "step_started_at": self.started_at,
            "step_warn_at": self.warn_at,
            "step_deadline": self.deadline,
            "step_red_at": self.red_at,
            "deadline_provisional": self.provisional,
            "card": "",
        }


NO_CLOCK = {
    "step": "",
    "step_started_at": None,
    "step_warn_at": None,
    "step_deadline": None,
    "step_red_at": None,
    "deadline_provisional": False,
    "card": "",
}


def _shares() -> tuple[float, float]:
    return float(settings.CASES_WARN_SHARE), float(settings.CASES_RED_CARD_SHARE)


def step_clock(start: dt.datetime, limit_type: str, amount: float) -> StepClock:
    warn_share, red_share = _shares()
    warn = deadline_for(start, limit_type, amount * warn_share)
    due = deadline_for(start, limit_type, amount)
    red = deadline_for(start, limit_type, amount * red_share)
    provisional = warn.provisional or due.provisional or red.provisional
    return StepClock(start, warn.at, due.at, red.at, provisional)


def step_clock_extended(case, limit_type: str, amount: float) -> dict:
    """Move every point of the running clock later by `amount` (an approved extension)."""
    points = {
        name: deadline_for(getattr(case, name), limit_type, amount)
        for name in ("step_warn_at", "step_deadline", "step_red_at")
    }
    fields = {name: d.at for name, d in points.items()}
    fields["deadline_provisional"] = case.deadline_provisional or any(
        d.provisional for d in points.values()
    )
    fields["card"] = ""
    return fields


def traffic_light(case, now: dt.datetime) -> str:
    """green below the yellow point, yellow up to and including the deadline, red after."""
    if case.step_deadline is None:
        return Light.NONE
    if now > case.step_deadline:
        return Light.RED
    if case.step_warn_at is not None and now >= case.step_warn_at:
        return Light.YELLOW
    return Light.GREEN
