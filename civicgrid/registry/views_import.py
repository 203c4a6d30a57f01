"""Excel in and out (J8) and visit → case (J9).

Import: choose a kind, download its template, upload, see the dry run row by row, download
the error workbook, start the background import and watch its progress bar (HTMX polling);
the job page can be closed and reopened, and a failed or stalled job resumed. A job is only
ever visible to the user who uploaded it (anyone else gets 404).

Export: the people list with its filters, masked; full numbers only for a user who may
reveal them, who asks explicitly and gives a reason. Every export writes an audit row.
"""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.accounts.decorators import region_viewer_required
from civicgrid.accounts.scope import scope_of
from civicgrid.core.audit import audit_record
from civicgrid.core.imports import ImportFileError, all_kinds, export_xlsx, get_kind
from civicgrid.core.imports.services import (
    ImportJobConflict,
    import_job_cancel,
    import_job_create,
    import_job_dry_run,
    import_job_resume,
    import_job_start,
    import_job_summary,
)
from civicgrid.core.imports.workbooks import XLSX_TYPE, template_workbook
from civicgrid.core.models import ImportJob, ImportStatus

from . import selectors
from .models import Visit
from .permissions import can_reveal
from .views import people_filters

EXPORT_COLUMNS = [
    ("name", "姓名"), ("sex", "性别"), ("birth_date", "出生日期"), ("id_number", "身份证号"),
    ("phone", "联系电话"), ("residency", "人口类别"), ("unit", "网格编码"), ("room", "房号"),
    ("address", "现住地址"), ("household", "户号"),
]  # fmt: skip
MAX_REFUSED_SHOWN = 200


def _kinds() -> list[tuple[str, str]]:
    return sorted(((name, cls.label) for name, cls in all_kinds().items()), key=_kind_order)


def _kind_order(item: tuple[str, str]) -> tuple[int, str]:
    order = ["person", "household", "building", "organisation", "component"]
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


def _job(request: HttpRequest, pk: int) -> ImportJob:
    """The user's own job; any other id answers 404, like out-of-scope registry rows."""
    return get_object_or_404(ImportJob, pk=pk, created_by_id=request.user.pk)


@region_viewer_required
@require_http_methods(["GET", "POST"])
def import_home(request: HttpRequest) -> HttpResponse:
    kinds = _kinds()
    chosen = request.POST.get("kind") or request.GET.get("kind") or "person"
    error = ""
    if request.method == "POST":
        job, error = _upload(request, chosen, dict(kinds))
        if job is not None:
            return redirect("registry:import_job", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by_id=request.user.pk)[:10]
    context = {"kinds": kinds, "chosen": chosen, "error": error, "jobs": jobs}
    return render(request, "registry/import.html", context, status=400 if error else 200)


def _upload(request: HttpRequest, kind: str, kinds: dict[str, str]) -> tuple[Any, str]:
    upload = request.FILES.get("file")
    if kind not in kinds:
        return None, "请选择导入类型"
    if upload is None:
        return None, "请选择要导入的 .xlsx 或 .csv 文件"
    try:
        job = import_job_create(kind=kind, uploaded_file=upload, user=request.user)
        import_job_dry_run(job=job)
    except ImportFileError as exc:
        return None, exc.message
    return job, ""


@region_viewer_required
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        kind_cls = get_kind(kind)
    except LookupError:
        raise Http404 from None
    buffer = io.BytesIO()
    template_workbook(kind_cls, buffer)
    buffer.seek(0)
    name = f"{kind_cls.label}导入模板.xlsx".replace("·", "-")
    return FileResponse(buffer, as_attachment=True, filename=name, content_type=XLSX_TYPE)


@region_viewer_required
@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    summary = job.dry_run_summary or {}
    refused = summary.get("errors", [])[:MAX_REFUSED_SHOWN]
    context = {"job": job, "summary": summary, "refused": refused,
               "kind_label": _label(job.kind), "progress": import_job_summary(job),
               "resumable": _resumable(job)}  # fmt: skip
    return render(request, "registry/import_job.html", context)


def _label(kind: str) -> str:
    try:
        return get_kind(kind).label
    except LookupError:
        return kind


def _resumable(job: ImportJob) -> bool:
    if job.status == ImportStatus.FAILED:
        return True
    if job.status != ImportStatus.RUNNING:
        return False
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    stale = timedelta(seconds=getattr(settings, "IMPORT_STALE_SECONDS", 300))
    return job.updated_at < timezone.now() - stale


@region_viewer_required
@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX: the progress bar; it keeps polling only while the job runs."""
    job = _job(request, pk)
    context = {"job": job, "progress": import_job_summary(job), "resumable": _resumable(job)}
    return render(request, "registry/partials/import_progress.html", context)


@region_viewer_required
@require_POST
def import_start(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    action = import_job_resume if request.POST.get("resume") else import_job_start
    try:
        action(job=job)
    except ImportJobConflict:
        messages.error(request, "该导入任务当前状态不能开始或续传")
    else:
        messages.success(request, "已开始导入，可以关闭本页，稍后回来查看进度")
    return redirect("registry:import_job", pk=job.pk)


@region_viewer_required
@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop a job that has not finished: batches already committed stay imported (they
    are whole rows), the batch in flight is rolled back, and the job cannot be resumed."""
    job = _job(request, pk)
    try:
        import_job_cancel(job=job)
    except ImportJobConflict:
        messages.error(request, "该导入任务已结束，不能取消")
    else:
        messages.success(request, "已取消导入；已导入的批次保留，未导入的行不会再导入")
    return redirect("registry:import_job", pk=job.pk)


@region_viewer_required
@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if not job.error_report:
        raise Http404
    name = f"错误数据-{job.original_name.rsplit('.', 1)[0] or job.pk}.xlsx"
    return FileResponse(job.error_report.open("rb"), as_attachment=True, filename=name,
                        content_type=XLSX_TYPE)  # fmt: skip


# --- export -------------------------------------------------------------------------------


@region_viewer_required
@require_GET
def people_export(request: HttpRequest) -> HttpResponse:
    """The filtered people list as .xlsx: masked, or full numbers with a reason (audited)."""
    g = request.GET
    filters = people_filters(g)
    full = g.get("full") == "1"
    reason = g.get("reason", "").strip()[:200]
    if full and not reason:
        messages.error(request, "导出完整号码须填写原因")
        return redirect(f"{reverse('registry:people')}?{g.urlencode()}")
    qs = selectors.person_list(user=request.user, **filters).order_by("unit_path", "name", "id")
    scope = scope_of(request.user)
    if full and not (scope.is_global or _may_reveal_all(scope, qs)):
        raise PermissionDenied("您的角色无权导出完整的个人敏感信息")
    count = qs.count()
    audit_record(action="export", object_type="registry.person", object_id="export",
                 object_repr=f"实有人口导出 {count} 人",
                 changes={"filters": filters, "rows": count, "full": full, "reason": reason},
                 actor=request.user)  # fmt: skip
    rows = (_export_row(p, full) for p in qs.select_related("unit").iterator(chunk_size=2000))
    return export_xlsx(rows_iterable=rows, columns=EXPORT_COLUMNS, filename="实有人口.xlsx")


def _may_reveal_all(scope: Any, qs: Any) -> bool:
    paths = qs.values_list("unit_path", flat=True).distinct()
    return all(can_reveal(scope, path) for path in paths)


def _export_row(person: Any, full: bool) -> dict[str, Any]:
    return {
        "name": person.name, "sex": person.get_sex_display(), "birth_date": person.birth_date,
        "id_number": person.id_number if full else person.id_number_masked,
        "phone": person.phone if full else person.phone_masked,
        "residency": person.get_residency_display(), "unit": person.unit.code,
        "room": person.room.label if person.room_id else "", "address": person.address,
        "household": person.household.number if person.household_id else "",
    }  # fmt: skip


# --- visit → case ---------------------------------------------------------------------------


@region_viewer_required
@require_POST
def visit_to_case(request: HttpRequest, pk: int) -> HttpResponse:
    """J9: a problem found on a visit becomes a case in one step (once per visit)."""

    visit = get_object_or_404(selectors.visit_list(user=request.user), pk=pk)
    return visit_case_redirect(request, visit)


def visit_case_redirect(request: HttpRequest, visit: Visit) -> HttpResponse:
    """Report the visit's problem through the case intake; one case per visit (idempotent)."""
    from civicgrid.cases.choices import Source
    from civicgrid.cases.services.intake import case_report

    target = visit.person or visit.household or visit.organisation
    title = (request.POST.get("title") or "").strip()[:100] or f"走访发现问题：{target}"[:100]
    try:
        reported = case_report(
            source=Source.GRID_WORKER, title=title, description=visit.findings,
            lat=visit.lat, lng=visit.lng, unit=None if visit.lat is not None else visit.unit,
            address=_address(visit), reporter=request.user, actor=request.user,
            idempotency_key=f"visit-{visit.pk}",
        )  # fmt: skip
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
        return redirect(_back(visit))
    case = reported.case
    verb = "已转为事件" if reported.created else "该走访已转过事件"
    messages.success(request, f"{verb}：{case.number}")
    return redirect(reverse("cases:case", args=[case.pk]))


def _address(visit: Visit) -> str:
    target = visit.person or visit.household or visit.organisation
    return (getattr(target, "address", "") or "")[:200]


def _back(visit: Visit) -> str:
    if visit.person_id:
        return reverse("registry:person_detail", args=[visit.person_id])
    if visit.household_id:
        return reverse("registry:household_detail", args=[visit.household_id])
    return reverse("registry:people")
