"""The grid worker's phone workbench (J4): cases to verify in my grid, grid-level tasks, and
what I reported. Cards, not tables: it is read on a phone in the street."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import selectors
from ..permissions import GRID_STAFF_ROLES
from .work import PAGE_SIZE, require_roles

GRID_TABS = (("to_verify", "待核查"), ("tasks", "网格任务"), ("my_reports", "我的上报"))
TAB_KEYS = {key for key, _ in GRID_TABS}


def _counts(user, now) -> dict[str, int]:
    """One count per tab: three queries whatever the number of cases."""
    return {
        key: selectors.grid_workbench(user=user, bucket=key, now=now).count()
        for key, _ in GRID_TABS
    }


@login_required
@require_GET
def grid(request: HttpRequest) -> HttpResponse:
    require_roles(request.user, GRID_STAFF_ROLES, "只有网格员可以使用网格工作台")
    now = timezone.now()
    tab = request.GET.get("tab", "to_verify")
    tab = tab if tab in TAB_KEYS else "to_verify"
    qs = selectors.grid_workbench(user=request.user, bucket=tab, now=now).select_related(
        "unit__parent"
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = _counts(request.user, now)
    ctx = {
        "tab": tab,
        "tabs": [(key, label, counts[key]) for key, label in GRID_TABS],
        "page": page,
        "now": now,
    }
    return render(request, "cases/work/grid.html", ctx)
