"""The map panel's case section (J6: a region's open cases), registered with grids in
CasesConfig.ready()."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from civicgrid.accounts.scope import scope_of
from civicgrid.grids.models import Region
from civicgrid.grids.panel import PanelLink, PanelSection

from .choices import OPEN_STATUSES, Status
from .models import Case
from .selectors import capped_counts

RECENT = 5  # newest open cases listed under the figures
COUNT_CAP = 999  # "999+" beyond: a panel is a glance, not a report
_ACTIVE = sorted(OPEN_STATUSES - {Status.SUSPENDED})


def open_cases_section(*, user, region: Region) -> PanelSection | None:
    """Cases in hand in the region (located there) that the user may see: how many, how
    many past their step's limit, and the newest few with a link each. Two queries."""
    if not region.path:
        return None
    now = timezone.now()
    in_region = Case.objects.for_scope(scope_of(user)).filter(path__startswith=region.path)
    active = Q(status__in=_ACTIVE)
    buckets = {"open": active, "overdue": active & Q(step_deadline__lt=now)}
    counts = capped_counts(qs=in_region, buckets=buckets, cap=COUNT_CAP)
    summary = _("在办 %(open)s 件 · 超期 %(overdue)s 件") % {
        "open": counts["open"].text,
        "overdue": counts["overdue"].text,
    }
    recent = (
        in_region.filter(status__in=_ACTIVE)
        .order_by("-created_at", "-id")
        .only("pk", "number", "title", "status")[:RECENT]
    )
    links = tuple(
        PanelLink(
            f"{c.number} {c.title}", reverse("cases:case", args=[c.pk]), c.get_status_display()
        )
        for c in recent
    )
    title = pgettext("map panel", "案件")
    return PanelSection(title=title, summary=summary, links=links, name="cases")


def _link(case: Case) -> PanelLink:
    url = reverse("cases:case", args=[case.pk])
    return PanelLink(f"{case.number} {case.title}", url, str(case.get_status_display()))
