"""Admin for the case loop, in Chinese. Categories, the responsibility list and holidays are
edited here; cases only move through the services, so their admin is read-only."""

from django.contrib import admin

from civicgrid.core.models import Holiday, HolidaySource
from civicgrid.core.worktime import clear_cache

from .models import (
    Attachment,
    Case,
    CaseEvent,
    Category,
    Escalation,
    Extension,
    Notification,
    RoutingRule,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """Kept with the case loop, whose deadlines it drives. An edit here marks the row as the
    administrator's, so a later `holidays_sync` does not overwrite it."""

    list_display = ("date", "kind", "name", "source", "updated_at")
    list_filter = ("kind", "source")
    date_hierarchy = "date"
    readonly_fields = ("source", "updated_at")

    def save_model(self, request, obj, form, change):
        obj.source = HolidaySource.ADMIN
        super().save_model(request, obj, form, change)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        clear_cache()


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = (
        "code", "__str__", "kind", "limit_type", "handle_limit", "default_department",
        "is_active",
    )  # fmt: skip
    list_filter = ("kind", "limit_type", "is_active", "parent")
    search_fields = ("code", "name", "keywords")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent", "default_department")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "region", "department", "is_active")
    list_filter = ("is_active", "department")
    search_fields = ("category__name", "region__name", "department__name")
    raw_id_fields = ("region",)
    list_select_related = ("category__parent", "region", "department")


class EventInline(admin.TabularInline):
    model = CaseEvent
    fields = ("at", "actor_label", "action", "from_status", "to_status", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnly):
    list_display = (
        "number", "title", "status", "category", "department", "step_deadline", "card",
        "created_at",
    )  # fmt: skip
    list_filter = ("status", "source", "card", "located", "duplicate_suspected")
    search_fields = ("number", "title", "address")
    date_hierarchy = "created_at"
    list_select_related = ("category__parent", "department")
    exclude = ("reporter_phone_enc", "reporter_phone_bidx")
    inlines = [EventInline]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnly):
    list_display = ("case", "action", "from_status", "to_status", "actor_label", "at")
    list_filter = ("action",)
    search_fields = ("case__number",)
    list_select_related = ("case",)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnly):
    list_display = ("case", "kind", "content_type", "size", "created_at")
    list_filter = ("kind",)
    search_fields = ("case__number",)


@admin.register(Extension)
class ExtensionAdmin(ReadOnly):
    list_display = ("case", "amount", "limit_type", "status", "requested_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("case__number",)


@admin.register(Escalation)
class EscalationAdmin(ReadOnly):
    list_display = ("case", "level", "step", "target_department", "raised_at", "resolved_at")
    list_filter = ("level", "step")
    search_fields = ("case__number",)


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = ("recipient", "verb", "text", "created_at", "read_at")
    list_filter = ("verb",)
