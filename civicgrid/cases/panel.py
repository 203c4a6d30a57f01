"""The map panel's case section (J6: a region's open cases), registered with grids in
CasesConfig.ready()."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from civicgrid.grids.models import Region
from civicgrid.grids.panel import PanelLink, PanelSection

from . import selectors
from .models import Case

RECENT = 5  # newest open cases listed under the figures
COUNT_CAP = 999  # "999+" beyond: a panel is a glance, not a report


def open_cases_section(*, user, region: Region) -> PanelSection | None:
    """How many cases the region has in hand and overdue, and the newest few with a link."""
    if not region.path:
        return None
    counts = selectors.region_case_counts(user=user, path=region.path, cap=COUNT_CAP)
    summary = _("在办 %(open)s 件 · 超期 %(overdue)s 件") % {
        "open": counts["open"].text,
        "overdue": counts["overdue"].text,
    }
    recent = selectors.region_recent_cases(user=user, path=region.path, limit=RECENT)
    title = pgettext("map panel", "案件")
    return PanelSection(title, summary, tuple(_link(c) for c in recent), name="cases")


def _link(case: Case) -> PanelLink:
    url = reverse("cases:case", args=[case.pk])
    return PanelLink(f"{case.number} {case.title}", url, str(case.get_status_display()))
