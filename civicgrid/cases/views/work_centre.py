"""The command centre's queue (J2): buckets with counts, one list per bucket, and the case
panel beside it. Lists are one query for the page plus one capped count ("1000+"), whatever
their length; the bucket counts are one query of capped counts ("99+")."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from .. import selectors
from .work import CENTRE_VIEW_ROLES, capped_page, require_roles

# Tab order and labels: J2's buckets first, then the later stages the centre also owns.
CENTRE_TABS = (
    ("new", gettext_noop("新上报")),
    ("unlocated", gettext_noop("未定位")),
    ("duplicates", gettext_noop("疑似重复")),
    ("to_dispatch", gettext_noop("待派遣")),
    ("returned", gettext_noop("退回")),
    ("extensions", gettext_noop("延期申请")),
    ("overdue", gettext_noop("超期")),
    ("no_department", gettext_noop("无责任部门")),
    ("to_close", gettext_noop("待结案")),
    ("suspended", gettext_noop("挂账")),
)
TAB_KEYS = {key for key, _ in CENTRE_TABS}


def _rows(qs):
    """Only the joins the rows show (category, grid): with the department joined too,
    SQLite put the department table first and sorted every case of the bucket (1.1 s for
    the workbench's first page at 1M cases instead of reading the index in order)."""
    return qs.select_related(None).select_related("category__parent", "unit__parent")


def _tab(request: HttpRequest) -> str:
    tab = request.GET.get("tab", "new")
    return tab if tab in TAB_KEYS else "new"


def centre_context(request: HttpRequest) -> dict:
    now = timezone.now()
    tab = _tab(request)
    qs = _rows(selectors.centre_queue(user=request.user, bucket=tab, now=now))
    page = capped_page(qs, request.GET.get("page"))
    counts = selectors.centre_queue_counts(
        user=request.user, now=now, cap=selectors.BUCKET_COUNT_CAP
    )
    tabs = [(key, label, counts.get(key, 0)) for key, label in CENTRE_TABS]
    return {"tab": tab, "tabs": tabs, "page": page, "now": now, "list_url": "cases:centre"}


@login_required
@require_GET
def centre(request: HttpRequest) -> HttpResponse:
    """The queue page; an HTMX request for a tab gets the tabs and the list only."""
    require_roles(request.user, CENTRE_VIEW_ROLES, "只有指挥中心人员可以查看案件受理队列")
    ctx = centre_context(request)
    if request.htmx and request.htmx.target == "queue":
        return render(request, "cases/partials/centre_queue.html", ctx)
    selected = request.GET.get("case", "")
    ctx["selected"] = selected if selected.isdigit() and len(selected) < 12 else ""
    return render(request, "cases/work/centre.html", ctx)
