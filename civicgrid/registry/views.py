"""Registry pages (J7, J9): people search and detail, registration forms, tags, reveal,
visits, overdue duties and coverage. HTMX swaps the result table and the reveal box.

Views parse and render only. Reads go through `selectors` (out of scope → 404), writes
through `services`; a service's ValidationError comes back onto the form fields.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.accounts.decorators import region_viewer_required
from civicgrid.accounts.scope import scope_of

from . import selectors, services
from .choices import TAG_SPECS, PersonStatus, Residency, TagKind
from .forms import (
    HouseholdForm,
    MemberFormSet,
    PersonForm,
    RevealForm,
    TagForm,
    VisitForm,
    apply_errors,
)
from .models import Person
from .permissions import can_reveal, can_write

PAGE_SIZE = 30


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


class PeoplePaginator(Paginator):
    """The people list's pager: counts no further than `selectors.COUNT_CAP` (past it the
    page says "more than 1,000" and lists the first 1,000: an exact count of everyone
    called 王 in a city costs more than the page), and reads a page through
    `selectors.person_rows` (ids from an index, then 30 rows)."""

    def __init__(self, object_list, per_page, *, user) -> None:
        super().__init__(object_list, per_page)
        self.user = user

    @cached_property
    def seen(self) -> int:
        return selectors.capped_count(self.object_list)

    @property
    def capped(self) -> bool:
        return self.seen > selectors.COUNT_CAP

    @cached_property
    def count(self) -> int:
        return min(self.seen, selectors.COUNT_CAP)

    def page(self, number):
        number = self.validate_number(number)
        offset = (number - 1) * self.per_page
        limit = max(0, min(self.per_page, self.count - offset))
        rows = selectors.person_rows(self.object_list, user=self.user, offset=offset, limit=limit)
        return self._get_page(rows, number, self)


def people_filters(g) -> dict[str, str]:
    """The people list's filters from a query string (the list and its export read the
    same ones). `unit` (a region code) and `status` come from the map's panel, so the list
    it links to holds the people it counted; values that are not a code or a status are
    dropped."""
    unit, status = g.get("unit", "")[:20], g.get("status", "")
    return {
        "q": g.get("q", "")[:100], "residency": g.get("residency", "")[:20],
        "tag": g.get("tag", "")[:20], "address": g.get("address", "")[:100],
        "unit": unit if unit.isdigit() and unit.isascii() else "",
        "status": status if status in PersonStatus.values else "",
    }  # fmt: skip


@region_viewer_required
@require_GET
def people_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = people_filters(g)
    qs = selectors.person_list(user=request.user, **filters)  # in page order
    page = PeoplePaginator(qs, PAGE_SIZE, user=request.user).get_page(g.get("page"))
    scope = scope_of(request.user)
    may_reveal = scope.is_global or any(can_reveal(scope, p) for p in scope.region_paths)
    context = {"page": page, "filters": filters, "residencies": Residency.choices,
               "tag_kinds": TagKind.choices, "may_reveal": may_reveal,
               "status_label": dict(PersonStatus.choices).get(filters["status"], "")}  # fmt: skip
    template = "registry/partials/people_rows.html" if request.htmx else "registry/people.html"
    return render(request, template, context)


@region_viewer_required
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    scope = scope_of(request.user)
    members = person.household.members.exclude(pk=person.pk) if person.household_id else []
    context = {
        "person": person,
        "members": members,
        "tags": person.tags.order_by("ended_on", "kind"),
        "records": person.records.select_related("record_type", "area")[:50],
        "visits": selectors.person_visits(user=request.user, person=person)[:20],
        "may_reveal": can_reveal(scope, person.unit_path),
        "may_write": can_write(scope, person.unit_path),
        "tag_form": TagForm(),
    }
    return render(request, "registry/person_detail.html", context)


@region_viewer_required
@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest) -> HttpResponse:
    form = PersonForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.person_create(user=request.user, **data)
        except services.DuplicatePerson as exc:
            apply_errors(form, exc)
            return _person_form(request, form, duplicate=exc.existing, status=400)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"已登记 {person.name}")
            return redirect("registry:person_detail", pk=person.pk)
    return _person_form(request, form, status=400 if form.errors else 200)


def _person_form(request, form, *, person=None, duplicate=None, status=200) -> HttpResponse:
    context = {"form": form, "person": person, "duplicate": duplicate}
    return render(request, "registry/person_form.html", context, status=status)


@region_viewer_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    if not can_write(scope_of(request.user), person.unit_path):
        raise PermissionDenied("该人员不在您的登记权限范围内")
    initial = {f: getattr(person, f) for f in ("name", "sex", "birth_date", "residency",
                                                 "nationality", "address", "notes")}  # fmt: skip
    form = PersonForm(request.POST or None, initial=initial, with_unit=False)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k not in ("id_number", "phone")}
        for key in ("id_number", "phone"):
            if form.cleaned_data[key]:  # blank keeps the stored (masked, not shown) value
                changes[key] = form.cleaned_data[key]
        try:
            services.person_update(user=request.user, person=person, **changes)
        except services.DuplicatePerson as exc:
            apply_errors(form, exc)
            return _person_form(request, form, person=person, duplicate=exc.existing, status=400)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "已保存")
            return redirect("registry:person_detail", pk=person.pk)
    return _person_form(request, form, person=person, status=400 if form.errors else 200)


@region_viewer_required
@require_POST
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX: the clear value in place of the masked one, or the reason to give first."""
    person = selectors.person_get(user=request.user, pk=pk)
    form = RevealForm(request.POST)
    context = {"person": person, "field": request.POST.get("field", "")[:20]}
    # HTMX swaps only 2xx answers, so a refusal it should show comes back as 200.
    refused = 200 if request.htmx else 400
    if not form.is_valid():
        context["error"] = "请求无效"
        return render(request, "registry/partials/reveal.html", context, status=refused)
    try:
        value = services.person_reveal(user=request.user, person=person, **form.cleaned_data)
    except ValidationError as exc:
        context["error"] = ";".join(exc.messages)
        return render(request, "registry/partials/reveal.html", context, status=refused)
    except PermissionDenied as exc:
        context["error"] = str(exc)
        status = 200 if request.htmx else 403
        return render(request, "registry/partials/reveal.html", context, status=status)
    context["value"] = value
    return render(request, "registry/partials/reveal.html", context)


@region_viewer_required
@require_GET
def tag_fields(request: HttpRequest) -> HttpResponse:
    """HTMX: the chosen group's own fields under the tag form."""
    spec = TAG_SPECS.get(request.GET.get("kind", ""))
    fields = list(spec.fields) if spec else []
    return render(request, "registry/partials/tag_fields.html", {"fields": fields, "spec": spec})


@region_viewer_required
@require_POST
def person_tag(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    form = TagForm(request.POST)
    if form.is_valid():
        try:
            services.person_tag_add(
                user=request.user, person=person, kind=form.cleaned_data["kind"],
                data=form.data_values(), visit_every_days=form.cleaned_data["visit_every_days"],
            )  # fmt: skip
        except ValidationError as exc:
            messages.error(request, ";".join(exc.messages))
        else:
            messages.success(request, f"已标记为{TAG_SPECS[form.cleaned_data['kind']].label}")
    else:
        messages.error(request, "标记信息有误")
    return redirect("registry:person_detail", pk=person.pk)


@region_viewer_required
@require_POST
def person_untag(request: HttpRequest, pk: int, tag_id: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    tag = person.tags.filter(pk=tag_id).first()
    if tag is None:
        raise Http404
    services.person_tag_end(user=request.user, tag=tag)
    messages.success(request, f"已移出{tag.get_kind_display()}")
    return redirect("registry:person_detail", pk=person.pk)


@region_viewer_required
@require_http_methods(["GET", "POST"])
def household_create(request: HttpRequest) -> HttpResponse:
    """J7: a flat and the family that moved in, several members in one submit."""
    buildings = selectors.building_list(user=request.user).order_by("unit_path", "number")
    form = HouseholdForm(request.POST or None, buildings=buildings)
    members = MemberFormSet(request.POST or None, prefix="m")
    if request.method == "POST" and form.is_valid() and members.is_valid():
        try:
            household = _register_household(request, form, members)
        except ValidationError as exc:
            apply_errors(form, exc, members)
        else:
            messages.success(request, f"已登记 {household.address},{household.members.count()} 人")
            return redirect("registry:household_detail", pk=household.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "members": members}
    return render(request, "registry/household_form.html", context, status=status)


@transaction.atomic
def _register_household(request, form, members):
    building = form.cleaned_data["building"]
    _, entrance, number = services.parse_room_label(form.cleaned_data["room"])
    room = services.room_get_or_create(
        user=request.user, building=building, entrance=entrance, number=number
    )
    rows = [dict(f.cleaned_data) for f in members.forms if (f.cleaned_data or {}).get("name")]
    if not rows:
        raise ValidationError({"__all__": ["请至少填写一名成员"]})
    return services.household_create(
        user=request.user, room=room, number=form.cleaned_data["number"], members=rows
    )


@region_viewer_required
@require_GET
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = selectors.household_get(user=request.user, pk=pk)
    context = {
        "household": household,
        "members": household.members.order_by("id"),
        "visits": selectors.visit_list(user=request.user, household=household.pk)[:20],
        "may_write": can_write(scope_of(request.user), household.unit_path),
    }
    return render(request, "registry/household_detail.html", context)


@region_viewer_required
@require_http_methods(["GET", "POST"])
def visit_create(request: HttpRequest) -> HttpResponse:
    """J9: record a visit to a person or household on the phone, with the browser's GPS."""
    target = _visit_target(request)
    form = VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.visit_record(user=request.user, target=target, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "走访已记录")
            if request.POST.get("to_case") == "1":
                from .views_import import visit_case_redirect

                return visit_case_redirect(request, visit)
            if isinstance(target, Person):
                return redirect("registry:person_detail", pk=target.pk)
            return redirect("registry:household_detail", pk=target.pk)
    status = 400 if form.errors else 200
    return render(request, "registry/visit_form.html", {"form": form, "target": target},
                  status=status)  # fmt: skip


def _visit_target(request):
    params = request.GET if request.method == "GET" else request.POST
    person_id = _int(params.get("person") or request.GET.get("person"))
    household_id = _int(params.get("household") or request.GET.get("household"))
    if person_id:
        return selectors.person_get(user=request.user, pk=person_id)
    if household_id:
        return selectors.household_get(user=request.user, pk=household_id)
    raise Http404


@region_viewer_required
@require_GET
def overdue(request: HttpRequest) -> HttpResponse:
    duties = selectors.overdue_duties(user=request.user)
    page = Paginator(duties, 50).get_page(request.GET.get("page"))
    return render(request, "registry/overdue.html", {"page": page, "total": len(duties)})


@region_viewer_required
@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    rows = selectors.coverage_by_grid(user=request.user)
    shares = {r.code: {"s30": round(r.share_30, 3), "s90": round(r.share_90, 3),
                       "households": r.households} for r in rows}  # fmt: skip
    return render(request, "registry/coverage.html",
                  {"rows": rows, "shares_json": json.dumps(shares)})  # fmt: skip
