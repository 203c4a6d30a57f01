"""Admin for regions, departments, staff posts and the locate-index version, in Chinese.

Every save goes through `grids.services` (codes, levels, 1+1+1+N, audit). Forms validate by
running the service in a rolled-back savepoint (`service_dry_run`), so its messages appear on
the form; `save_model` then runs it for real.

Geometry is read-only here: a boundary is GeoJSON validated against the parent and siblings,
which a text box cannot edit sensibly. Boundaries change through `PUT /api/v1/regions/{code}/
boundary` or the import command, both of which go through `region_set_boundary`.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from civicgrid.core.admin import ReadOnlyAdmin, add_service_errors, adopt, service_dry_run

from . import services
from .choices import Level
from .models import Department, GeoIndexState, GridPost, Region

GEOMETRY_FIELDS = (
    "path", "boundary_preview", "area_m2", "centroid_lat", "centroid_lng", "min_lat", "min_lng",
    "max_lat", "max_lng", "geo_version", "created_at", "updated_at",
)  # fmt: skip


class ServiceForm(forms.ModelForm):
    """A ModelForm whose `clean()` asks the service (dry run) whether the save would pass."""

    def service_call(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if not self.errors:
            refusal = service_dry_run(self.service_call)
            if refusal is not None:
                add_service_errors(self, refusal)
        return data


class RegionAddForm(ServiceForm):
    class Meta:
        model = Region
        fields = ("name", "level", "code", "parent", "grid_type")

    def service_call(self) -> Region:
        d = self.cleaned_data
        return services.region_create(
            name=d["name"], level=d["level"], code=d["code"], parent=d.get("parent"),
            grid_type=d.get("grid_type") or "",
        )  # fmt: skip


class RegionChangeForm(ServiceForm):
    class Meta:
        model = Region
        fields = ("name", "grid_type", "is_active")

    def service_call(self) -> Region:
        d = self.cleaned_data
        fresh = Region.objects.get(pk=self.instance.pk)
        return services.region_update(
            region=fresh, name=d["name"], grid_type=d.get("grid_type") or "",
            is_active=d["is_active"],
        )  # fmt: skip


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "grid_type", "parent", "area_m2", "is_active")
    list_filter = ("level", "grid_type", "is_active")
    search_fields = ("code", "name")
    ordering = ("path",)
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    list_per_page = 100

    @admin.display(description=_("边界 (GeoJSON)"))
    def boundary_preview(self, obj: Region) -> str:
        geojson = obj.geojson() if obj.pk else None
        if geojson is None:
            return "—"
        text = json.dumps(geojson, ensure_ascii=False)
        short = text if len(text) <= 600 else text[:600] + " …"
        return format_html("<code style='white-space:pre-wrap'>{}</code>", short)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = RegionChangeForm if obj is not None else RegionAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return RegionAddForm.Meta.fields
        return ("code", "level", "parent", *RegionChangeForm.Meta.fields, *GEOMETRY_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        # Codes, levels and parents are stable (DESIGN.md §3): read-only once created.
        return ("code", "level", "parent", *GEOMETRY_FIELDS) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        adopt(obj, form.service_call())

    def has_delete_permission(self, request, obj=None) -> bool:
        """Regions are referenced by cases, people and history; they are deactivated, not
        deleted."""
        return False


class DepartmentAddForm(ServiceForm):
    class Meta:
        model = Department
        fields = ("name", "code", "region", "phone", "description")

    def service_call(self) -> Department:
        d = self.cleaned_data
        return services.department_create(
            name=d["name"], code=d["code"], region=d["region"], phone=d.get("phone") or "",
            description=d.get("description") or "",
        )  # fmt: skip


class DepartmentChangeForm(ServiceForm):
    class Meta:
        model = Department
        fields = services.DEPARTMENT_FIELDS

    def service_call(self) -> Department:
        changes = {f: self.cleaned_data[f] for f in services.DEPARTMENT_FIELDS}
        fresh = Department.objects.get(pk=self.instance.pk)
        return services.department_update(department=fresh, **changes)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region", "phone", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = DepartmentChangeForm if obj is not None else DepartmentAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return DepartmentAddForm.Meta.fields
        return ("code", "region", *services.DEPARTMENT_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        return ("code", "region") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        adopt(obj, form.service_call())

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class GridPostAddForm(ServiceForm):
    class Meta:
        model = GridPost
        fields = ("grid", "role", "user", "department")

    def service_call(self) -> GridPost:
        d = self.cleaned_data
        return services.grid_post_assign(
            grid=d["grid"], role=d["role"], user=d["user"], department=d.get("department")
        )


@admin.register(GridPost)
class GridPostAdmin(admin.ModelAdmin):
    """Posts are appointed here and ended with the "免去" action; an ended post stays as
    history, so there is no edit and no delete."""

    form = GridPostAddForm
    list_display = ("grid", "role", "user", "user_phone", "department", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("grid__code", "grid__name", "user__name", "user__username")
    autocomplete_fields = ("grid", "user", "department")
    list_select_related = ("grid", "user", "department")
    actions = ("end_posts",)

    @admin.display(description=_("工作电话"))
    def user_phone(self, obj: GridPost) -> str:
        return obj.user.phone

    def get_readonly_fields(self, request, obj=None):
        return ("grid", "role", "user", "department", "is_active") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "grid":
            kwargs["queryset"] = Region.objects.filter(level=Level.GRID)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        adopt(obj, form.service_call())

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("免去所选岗位"), permissions=["change"])
    def end_posts(self, request, queryset):
        ended = 0
        for post in queryset.filter(is_active=True).select_related("user", "grid"):
            services.grid_post_end(post=post)
            ended += 1
        text = ngettext("已免去 %(n)s 个岗位", "已免去 %(n)s 个岗位", ended) % {"n": ended}
        self.message_user(request, text, messages.SUCCESS)


@admin.register(GeoIndexState)
class GeoIndexStateAdmin(ReadOnlyAdmin):
    """Bumped by services in the same transaction as a boundary change; never edited."""

    list_display = ("id", "version")
    readonly_fields = ("id", "version")
