"""Intake pages (J1, J4, J5): 民情直通车 for residents, the grid worker's patrol report, the
hotline/official registration, and the cameras with "raise an event from here".

Views parse and render only; cases are written by `case_report_with_photos` (all or nothing,
idempotent per page key) and `camera_event_report`. A refused submission re-renders the form
with its errors inline and answers 400; it never leaves half a case behind.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from civicgrid.accounts.choices import GRID_ROLES
from civicgrid.accounts.scope import scope_of
from civicgrid.grids.choices import Level
from civicgrid.grids.models import Region

from .. import selectors
from ..cameras import camera_event_report, camera_get, camera_list, may_raise_events
from ..choices import RESIDENT_STATUS_TEXT, Source
from ..intake_forms import (
    CameraEventForm,
    HotlineForm,
    PatrolForm,
    ResidentForm,
    apply_errors,
    new_key,
)
from ..models import Case, Category
from ..permissions import CENTRE_ROLES
from ..services import case_report_with_photos

# The short list residents see first (J1); anything else is one search or one tap away.
SHORT_LIST = (
    "井盖缺失", "路灯损坏", "暴露垃圾", "道路不洁", "非法小广告", "机动车乱停放",
    "店外经营", "下水道堵塞或破损", "施工扰民", "邻里纠纷",
)  # fmt: skip
DEFAULT_CENTER = (33.50, 119.14)
CAMERA_PAGE = 200


def _map_center() -> tuple[float, float]:
    street = (
        Region.objects.filter(level=Level.STREET, centroid_lat__isnull=False)
        .order_by("code")
        .values_list("centroid_lat", "centroid_lng")
        .first()
    )
    return street or DEFAULT_CENTER


def _categories() -> dict:
    minors = list(Category.objects.active().minors().select_related("parent").order_by("code"))
    short = [c for c in minors if c.name in SHORT_LIST]
    groups: dict[str, list[Category]] = {}
    for c in minors:
        groups.setdefault(f"{c.parent.get_kind_display()} · {c.parent.name}", []).append(c)
    return {"short_list": short, "category_groups": groups}


def _photos(request: HttpRequest) -> list:
    return request.FILES.getlist("photos")


def _render(request, template: str, form, status: int = 200, **extra) -> HttpResponse:
    lat, lng = _map_center()
    context = {"form": form, "center_lat": lat, "center_lng": lng, **_categories(), **extra}
    return render(request, template, context, status=status)


def _submit(form, request, **report) -> Case | None:
    """Report with photos; service refusals go back onto the form."""
    try:
        return case_report_with_photos(files=_photos(request), **report).case
    except ValidationError as exc:
        apply_errors(form, exc)
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or "无权执行此操作")
    return None


def _common(form) -> dict:
    d = form.cleaned_data
    return {
        "title": form.title(), "description": d["description"], "category": d["category"],
        "lat": d["lat"], "lng": d["lng"], "address": d["address"],
        "idempotency_key": d["idempotency_key"],
    }  # fmt: skip


# --- residents (报) ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def resident_report(request: HttpRequest) -> HttpResponse:
    """民情直通车: category, words, up to 9 photos, a pin; optionally anonymous."""
    form = ResidentForm(request.POST or None, initial={"idempotency_key": new_key()})
    if request.method == "POST" and form.is_valid():
        case = _submit(
            form, request, source=Source.RESIDENT, reporter=request.user,
            anonymous=form.cleaned_data["anonymous"], **_common(form),
        )  # fmt: skip
        if case is not None:
            return redirect("cases:intake_done", number=case.number)
    status = 400 if form.errors else 200
    return _render(request, "cases/intake/resident.html", form, status)


@login_required
@require_GET
def report_done(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_get(user=request.user, number=number[:20])
    text = RESIDENT_STATUS_TEXT.get(case.status, case.get_status_display())
    return render(request, "cases/intake/done.html", {"case": case, "status_text": text})


@login_required
@require_GET
def category_search(request: HttpRequest) -> HttpResponse:
    """HTMX: categories whose name, major class or keywords contain the typed word."""
    text = request.GET.get("q", "")[:20]
    found = list(selectors.category_search(text=text)[:30]) if text.strip() else []
    context = {"found": found, "q": text, "selected": request.GET.get("category", "")}
    return render(request, "cases/intake/partials/category_results.html", context)


# --- grid workers (采) ---------------------------------------------------------------------------


def _require_roles(user, roles, message: str) -> None:
    scope = scope_of(user)
    if not (scope.is_global or scope.roles & set(roles)):
        raise PermissionDenied(message)


@login_required
@require_http_methods(["GET", "POST"])
def patrol_report(request: HttpRequest) -> HttpResponse:
    """J4: GPS and photos from the patrol; a small thing can be handled on the spot."""
    _require_roles(request.user, GRID_ROLES, "只有网格工作人员可以使用巡查上报")
    form = PatrolForm(request.POST or None, initial={"idempotency_key": new_key()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        case = _submit(
            form, request, source=Source.GRID_WORKER, reporter=request.user,
            handled_on_spot=d["on_spot"], handle_note=d["handle_note"] if d["on_spot"] else "",
            **_common(form),
        )  # fmt: skip
        if case is not None:
            return redirect("cases:intake_done", number=case.number)
    return _render(request, "cases/intake/patrol.html", form, 400 if form.errors else 200)


# --- hotline and officials (收) ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def hotline_report(request: HttpRequest) -> HttpResponse:
    """J5: an operator registers a caller's problem with the caller's phone (encrypted)."""
    _require_roles(request.user, CENTRE_ROLES, "只有指挥中心人员可以登记热线来电")
    form = HotlineForm(request.POST or None, initial={"idempotency_key": new_key()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        report = _common(form)
        if d["category"] is None:
            report["title"] = d["description"].strip().splitlines()[0][:30]
        case = _submit(
            form, request, source=d["source"], actor=request.user,
            reporter_name=d["reporter_name"], reporter_phone=d["reporter_phone"], **report,
        )  # fmt: skip
        if case is not None:
            # Rendered, not redirected: a case outside the area may lie outside the
            # operator's own scope; the page's key makes a reload harmless.
            fresh = HotlineForm(initial={"idempotency_key": new_key()})
            return _render(request, "cases/intake/hotline.html", fresh, registered=case)
    return _render(request, "cases/intake/hotline.html", form, 400 if form.errors else 200)


# --- cameras (看) --------------------------------------------------------------------------------


@login_required
@require_GET
def cameras(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:30]
    qs = camera_list(user=request.user)
    if q:
        qs = qs.filter(code__icontains=q) | qs.filter(name__icontains=q)
    context = {"cameras": qs.order_by("code")[:CAMERA_PAGE], "q": q, "total": qs.count()}
    return render(request, "cases/intake/cameras.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def camera_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The camera's page; operators covering it raise an event with a snapshot (J5)."""
    camera = camera_get(user=request.user, pk=pk)
    may_raise = may_raise_events(request.user, camera)
    form = CameraEventForm(request.POST or None, initial={"idempotency_key": new_key()})
    if request.method == "POST":
        if not may_raise:
            raise PermissionDenied("只有指挥中心人员可以从监控点位上报事件")
        if form.is_valid() and _raise_event(request, camera, form):
            return redirect("cases:intake_camera", pk=camera.pk)
    recent = selectors.case_list(user=request.user).filter(camera=camera)[:20]
    context = {"camera": camera, "form": form, "may_raise": may_raise, "recent": recent,
               **_categories()}  # fmt: skip
    return render(request, "cases/intake/camera.html", context, status=400 if form.errors else 200)


def _raise_event(request: HttpRequest, camera, form: CameraEventForm) -> bool:
    snapshots = request.FILES.getlist("photos")
    if len(snapshots) != 1:
        form.add_error("photos", "请上传一张监控截图")
        return False
    d = form.cleaned_data
    try:
        reported = camera_event_report(
            camera=camera, category=d["category"], snapshot=snapshots[0],
            description=d["description"], idempotency_key=d["idempotency_key"],
            actor=request.user,
        )  # fmt: skip
    except ValidationError as exc:
        apply_errors(form, exc)
        return False
    messages.success(request, f"已上报事件,案件编号 {reported.case.number}")
    return True
