"""Admin for the editable configuration: work areas (names, departments) and record types.
People are edited through the registry pages only, where every write is audited."""

from django.contrib import admin

from .models import RecordType, WorkArea


@admin.register(WorkArea)
class WorkAreaAdmin(admin.ModelAdmin):
    list_display = ("order", "code", "name", "is_active")
    list_editable = ("name", "is_active")
    filter_horizontal = ("departments",)


@admin.register(RecordType)
class RecordTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "area", "subject_kind", "is_active")
    list_filter = ("area", "subject_kind")
