"""Shared parts of the workbench pages: who gets which workbench, the case panel (photos,
map, grid staff, timeline, the action forms the user may use), the full case page and the
photo view.

Reads go through `cases.selectors` (out of scope → 404 without saying whether the case
exists); the buttons shown come from the workflow table and the permission checks, so a
page never offers a move the service would refuse for the user's role.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET

from civicgrid.accounts.choices import Role
from civicgrid.accounts.scope import scope_of
from civicgrid.grids import selectors as grid_selectors
from civicgrid.grids.choices import Level, PostRole

from .. import dedup, selectors
from ..choices import Action, LimitType, Status, Step
from ..models import Attachment, Case
from ..permissions import CENTRE_ROLES, CHECKS, DEPARTMENT_ROLES, GRID_STAFF_ROLES
from ..services.intake import route_for
from ..workflow import TRANSITIONS, allowed_actions

PAGE_SIZE = 30
CENTRE_VIEW_ROLES = frozenset(CENTRE_ROLES | {Role.LEADER, Role.ADMIN})
POST_ORDER = {role: n for n, role in enumerate(PostRole.values)}  # 1+1+1+N order


class CappedPaginator(Paginator):
    """Django's Paginator with a total that stops counting `cap` rows past the start of the
    asked page (selectors.capped_count): "第 1 页,共 1000+ 件" instead of an exact COUNT
    over every case of a bucket, which at a million cases cost more than the page. While
    the total is capped there is always a next page; further pages count further."""

    def __init__(self, object_list, per_page: int, *, page, cap: int):
        super().__init__(object_list, per_page)
        try:
            start = (max(int(page), 1) - 1) * per_page
        except (TypeError, ValueError):
            start = 0
        self.cap = start + max(cap, per_page + 1)  # capped ⇒ a next page exists

    @cached_property
    def count(self) -> selectors.CappedCount:
        return selectors.capped_count(qs=self.object_list, cap=self.cap)

    @property
    def capped(self) -> bool:
        return self.count.capped


def capped_page(qs, number):
    """One page of a queue (number as given in `?page=`, bad values → first/last page)."""
    return CappedPaginator(qs, PAGE_SIZE, page=number, cap=selectors.PAGE_COUNT_CAP).get_page(
        number
    )


# --- roles -----------------------------------------------------------------------------------


def roles_of(user) -> frozenset[str]:
    return scope_of(user).roles


def require_roles(user, roles: frozenset[str], message: str) -> None:
    """Wrong role → 403 with a reason (superusers see every workbench)."""
    if user.is_superuser or roles_of(user) & roles:
        return
    raise PermissionDenied(message)


def workbench_url_name(user) -> str:
    """The workbench a user lands on: centre, department, grid, else their own reports."""
    roles = roles_of(user)
    if user.is_superuser or roles & CENTRE_VIEW_ROLES:
        return "cases:centre"
    if roles & DEPARTMENT_ROLES:
        return "cases:dept"
    if roles & GRID_STAFF_ROLES:
        return "cases:grid"
    return "cases:mine"


@login_required
@require_GET
def workbench(request: HttpRequest) -> HttpResponse:
    return redirect(workbench_url_name(request.user))


# --- small formatting helpers ----------------------------------------------------------------


def limit_text(limit_type: str, amount: float) -> str:
    """'3 个工作日', '4 小时(紧急)': what an operator reads before dispatching."""
    n = f"{amount:g}"
    return {
        LimitType.URGENT_HOURS: f"{n} 小时(紧急)",
        LimitType.WORK_HOURS: f"{n} 个工作小时",
        LimitType.WORK_DAYS: f"{n} 个工作日",
        LimitType.NATURAL_DAYS: f"{n} 天",
    }.get(limit_type, n)


def handle_limit_text(case: Case, category=None) -> str:
    category = category or case.category
    if category is None:
        return ""
    return limit_text(*category.limit_for(Step.HANDLE, case.area_class))


# --- which actions a user may take -----------------------------------------------------------


def _extra_ok(action: str, case: Case) -> bool:
    """Conditions the workflow table leaves to the services, checked here so that a button
    is only shown when pressing it can work."""
    if action == Action.EXTEND_REQUEST:
        return not case.extension_pending and case.step == Step.HANDLE and case.category_id
    if action in (Action.EXTEND_APPROVE, Action.EXTEND_REFUSE):
        return case.extension_pending
    if action == Action.ESCALATE:
        return case.is_grid_level
    return True


def available_actions(user, case: Case) -> set[str]:
    scope = scope_of(user)
    out = set()
    for action in allowed_actions(case.status):
        check, _ = CHECKS.get(TRANSITIONS[action].actor, (None, ""))
        if check is not None and check(scope, case) and _extra_ok(action, case):
            out.add(action)
    return out


# --- the case panel --------------------------------------------------------------------------


def _grid_of(case: Case):
    unit = case.unit
    if unit is None:
        return None
    return unit.parent if unit.level == Level.UNIT else unit


def _duplicate_candidates(user, case: Case) -> list:
    """Open cases that look like the same problem (cases/dedup.py), computed now so a report
    that came in after this one shows too; only cases the user can see."""
    suspects = dedup.case_duplicates(user=user, case=case)
    return [s for s in suspects if s.case.pk != case.pk and s.case.status != Status.MERGED]


def _photos(case: Case) -> list[Attachment]:
    return [a for a in case.attachments.all() if (a.content_type or "").startswith("image/")]


def _map_data(case: Case) -> dict:
    unit = case.unit
    boundary = unit.geojson() if unit is not None and unit.boundary_wkb else None
    return {
        "lat": case.lat,
        "lng": case.lng,
        "boundary": json.dumps(boundary) if boundary else "",
    }


def panel_context(request: HttpRequest, case: Case, **extra) -> dict:
    user = request.user
    actions = available_actions(user, case)
    grid = _grid_of(case)
    posts = grid_selectors.grid_post_list(user=user, grid=grid) if grid else []
    posts = sorted(posts, key=lambda p: (POST_ORDER.get(p.role, 99), p.pk))
    ctx = {
        "case": case,
        "actions": actions,
        "grid": grid,
        "posts": posts,
        "photos": _photos(case),
        "events": list(case.events.all()),
        "extensions": list(case.extensions.all()),
        "map": _map_data(case),
        "handle_limit": handle_limit_text(case),
        "duplicates": _duplicate_candidates(user, case) if Action.MERGE in actions else [],
        "variant": "staff",
        "message": None,
        "error": None,
    }
    if actions & {Action.ACCEPT, Action.DISPATCH}:
        ctx.update(_dispatch_choices(user, case))
    if Action.ACCEPT in actions:
        ctx["categories"] = list(selectors.category_search())
    if Action.RELOCATE in actions:
        ctx["units"] = list(
            grid_selectors.region_list(user=user).filter(level=Level.UNIT, is_active=True)
        )
    ctx.update(extra)
    return ctx


def _dispatch_choices(user, case: Case) -> dict:
    proposed, why = case.suggested_department, case.routing_reason
    if proposed is None and case.category_id and case.status == Status.REPORTED:
        proposed, why = route_for(case.category, case.path)
    regions = []
    grid = _grid_of(case)
    if grid is not None:
        regions = [grid] + list(
            grid_selectors.region_list(user=user).filter(
                code__in=grid.ancestor_codes(), level__in=[Level.COMMUNITY, Level.STREET]
            )
        )
    return {
        "departments": list(grid_selectors.department_list(user=user).filter(is_active=True)),
        "proposed": proposed,
        "proposed_reason": why,
        "regions": regions,
    }


PANEL_TEMPLATES = {
    ("staff", False): "cases/partials/case_panel.html",
    ("staff", True): "cases/work/case.html",
    ("resident", False): "cases/partials/resident_panel.html",
    ("resident", True): "cases/work/mine_case.html",
}


def render_panel(
    request: HttpRequest, case: Case, *, status: int = 200, full: bool = False, **extra
) -> HttpResponse:
    """The panel of `case` for staff or for its reporter; `full` wraps it in its page."""
    variant = extra.get("variant", "staff")
    if variant == "resident":
        from .work_resident import resident_context

        ctx = resident_context(request, case, **extra)
    else:
        ctx = panel_context(request, case, **extra)
    ctx.setdefault("back_url", workbench_url_name(request.user))
    return render(request, PANEL_TEMPLATES[(variant, full)], ctx, status=status)


# --- pages -----------------------------------------------------------------------------------


@login_required
@require_GET
def case_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The side panel of one case (HTMX); a plain request gets the full case page."""
    case = selectors.case_get(user=request.user, pk=pk)
    if not request.htmx:
        return redirect("cases:case", pk=case.pk)
    return render_panel(request, case, variant=_variant(request.user, case))


@login_required
@require_GET
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One case on its own page (phones, links from the inbox)."""
    case = selectors.case_get(user=request.user, pk=pk)
    if _variant(request.user, case) == "resident":
        return redirect("cases:mine_case", pk=case.pk)
    return render_panel(request, case, full=True)


def _variant(user, case: Case) -> str:
    """A reporter without a staff role reads their case in plain words, never the internal
    timeline (return reasons, cards, staff notes)."""
    staff = user.is_superuser or roles_of(user) - {Role.RESIDENT}
    return "resident" if case.reporter_id == user.pk and not staff else "staff"


PHOTO_SIZES = ("file", "medium", "thumb")


@login_required
@require_GET
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A case photo in one of its sizes (`?size=thumb|medium`, default the full copy), served
    only to users who see the case. With CASE_MEDIA_ACCEL_PREFIX the web server sends the
    file after this check (X-Accel-Redirect); otherwise Django streams it."""
    att = Attachment.objects.filter(pk=pk).first()
    if att is None:
        raise Http404("图片不存在")
    selectors.case_get(user=request.user, pk=att.case_id)
    size = request.GET.get("size", "thumb" if request.GET.get("thumb") else "file")
    field = getattr(att, size if size in PHOTO_SIZES else "file") or att.file
    prefix = getattr(settings, "CASE_MEDIA_ACCEL_PREFIX", "")
    if prefix:
        response = HttpResponse(content_type=att.content_type or "application/octet-stream")
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + field.name
    else:
        try:
            response = FileResponse(field.open("rb"), content_type=att.content_type or None)
        except (FileNotFoundError, ValueError) as exc:
            raise Http404("图片文件缺失") from exc
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
