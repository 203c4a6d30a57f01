"""Admin for the audit log (read-only), and the helpers every app's admin uses to write through
services instead of saving models directly."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models, transaction

from .models import AuditChainHead, AuditLog, ImportJob, RefVersion


class _DryRun(Exception):
    """Raised inside a savepoint to roll back a service call made only to validate."""


def service_dry_run(call: Callable[[], Any]) -> ValidationError | None:
    """Run a service inside a savepoint that is always rolled back; return its refusal.

    Admin forms validate in `clean()` but must not write there; the services own every rule
    (codes, levels, 1+1+1+N). Running the real service and rolling it back shows its messages
    on the form instead of duplicating the rules here or failing with a 500 in save_model.
    """
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        return None
    except ValidationError as exc:
        return exc


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form fields it names (else to the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


def adopt(target: models.Model, created: models.Model) -> None:
    """Copy a service-created row into the unsaved instance the admin goes on to log and
    redirect to."""
    for field in created._meta.concrete_fields:
        setattr(target, field.attname, getattr(created, field.attname))
    target._state.adding = False
    target._state.db = created._state.db


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only: no add, change or delete for anyone, superusers included."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """The audit chain is append-only (DESIGN.md §4); the admin only reads it."""

    list_display = ("seq", "created_at", "actor_label", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_id", "object_repr", "request_id")
    date_hierarchy = "created_at"
    readonly_fields = (
        "seq", "created_at", "actor_id", "actor_label", "action", "object_type", "object_id",
        "object_repr", "changes", "request_id", "prev_hash", "hash",
    )  # fmt: skip
    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over millions of rows on every page is slow


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ("id", "last_seq", "last_hash")
    readonly_fields = ("id", "last_seq", "last_hash")


@admin.register(RefVersion)
class RefVersionAdmin(ReadOnlyAdmin):
    """Counters bumped by every change to cached reference data (core/refcache.py)."""

    list_display = ("name", "version")
    readonly_fields = ("name", "version")


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    """Jobs are started and resumed by the import engine; the admin shows their progress."""

    list_display = (
        "id", "kind", "original_name", "status", "processed_rows", "total_rows",
        "created_count", "updated_count", "refused_count", "created_at",
    )  # fmt: skip
    list_filter = ("kind", "status")
    search_fields = ("original_name", "kind")
    readonly_fields = tuple(
        f.name for f in ImportJob._meta.concrete_fields if f.name != "error_log_size"
    )
