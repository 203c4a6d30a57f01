"""Admin for users, role assignments and API tokens, in Chinese.

Writes go through `accounts.services`: new users get the password validators and an audit
row, role assignments are made and revoked by `role_assign` / `role_revoke`, tokens are only
ever revoked here (their raw value exists once, on the page that created it).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from civicgrid.core.admin import add_service_errors, adopt, service_dry_run

from . import services
from .models import ApiToken, RoleAssignment, User


class RoleAssignmentForm(forms.ModelForm):
    """Validates through `role_assign` (grid roles only on grids, departments where needed)."""

    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "region", "department")

    def service_call(self) -> RoleAssignment:
        d = self.cleaned_data
        return services.role_assign(
            user=d["user"], role=d["role"], region=d["region"], department=d.get("department")
        )

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("user") is not None and not data.get("DELETE"):
            refusal = service_dry_run(self.service_call)
            if refusal is not None:
                add_service_errors(self, refusal)
        return data


class RoleAssignmentInline(admin.TabularInline):
    """Existing rows are read-only (revoke and assign again); new rows go through the service."""

    model = RoleAssignment
    form = RoleAssignmentForm
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("region", "department")
    verbose_name = _("角色分配")
    verbose_name_plural = _("角色分配(每个角色限定一个区域)")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "name", "phone", "is_active", "is_superuser", "locked")
    list_filter = ("is_active", "is_superuser", "is_staff")
    search_fields = ("username", "name", "phone")
    readonly_fields = ("failed_login_count", "locked_until", "last_login", "date_joined")
    actions = ("unlock_users",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("name", "phone", "email")}),
        (_("登录安全"), {"fields": ("failed_login_count", "locked_until", "last_login")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("时间"), {"fields": ("date_joined",)}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "name", "phone", "usable_password")}),
        (_("密码"), {"fields": ("password1", "password2")}),
    )

    @admin.display(description=_("锁定"), boolean=True)
    def locked(self, obj: User) -> bool:
        return obj.is_locked()

    def get_inlines(self, request, obj):
        # On the add page the user does not exist yet, so a role cannot be validated.
        return [RoleAssignmentInline] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        usable = form.cleaned_data.get("set_usable_password", True)
        created = services.user_create(
            username=obj.username, password=form.cleaned_data.get("password1") if usable else None,
            name=obj.name, phone=obj.phone, validate=False,  # the add form already validated
        )  # fmt: skip
        adopt(obj, created)

    def save_formset(self, request, form, formset, change):
        if formset.model is not RoleAssignment:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for assignment in formset.deleted_objects:
            services.role_revoke(assignment=assignment)
        for assignment in formset.new_objects:
            services.role_assign(
                user=form.instance, role=assignment.role, region=assignment.region,
                department=assignment.department,
            )  # fmt: skip
        return None

    @admin.action(description=_("解除所选用户的登录锁定"), permissions=["change"])
    def unlock_users(self, request, queryset):
        count = 0
        for user in queryset.filter(locked_until__gt=timezone.now()):
            services.user_unlock(user=user)
            count += 1
        text = ngettext("已解除 %(n)s 个账号的锁定", "已解除 %(n)s 个账号的锁定", count)
        self.message_user(request, text % {"n": count}, messages.SUCCESS)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    form = RoleAssignmentForm
    list_display = ("user", "role", "region", "department", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__name", "region__code", "region__name")
    autocomplete_fields = ("user", "region", "department")
    list_select_related = ("user", "region", "department")

    def get_readonly_fields(self, request, obj=None):
        return ("user", "role", "region", "department", "created_at") if obj else ()

    def save_model(self, request, obj, form, change):
        adopt(obj, form.service_call())

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def delete_model(self, request, obj):
        services.role_revoke(assignment=obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            services.role_revoke(assignment=assignment)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Only the hash is stored; tokens are created by their owner and revoked here."""

    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at",
                    "revoked_at")  # fmt: skip
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username", "user__name")
    readonly_fields = ("user", "name", "prefix", "token_hash", "created_at", "expires_at",
                       "last_used_at", "revoked_at")  # fmt: skip
    list_select_related = ("user",)
    actions = ("revoke_tokens",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("吊销所选令牌"), permissions=["change"])
    def revoke_tokens(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(token=token)
            count += 1
        text = ngettext("已吊销 %(n)s 个令牌", "已吊销 %(n)s 个令牌", count) % {"n": count}
        self.message_user(request, text, messages.SUCCESS)
