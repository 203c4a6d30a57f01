from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "civicgrid.accounts"
    label = "accounts"
    verbose_name = _("账号与权限")

    def ready(self) -> None:
        """Keep the per-process token memory (accounts/tokencache.py) in step with edits."""
        from django.db.models.signals import post_delete, post_save

        from .models import ApiToken, RoleAssignment, User
        from .tokencache import on_auth_change

        for model in (User, ApiToken, RoleAssignment):  # Region: grids/apps.py
            post_save.connect(on_auth_change, sender=model, dispatch_uid=f"auth-{model}")
            post_delete.connect(on_auth_change, sender=model, dispatch_uid=f"auth-del-{model}")
