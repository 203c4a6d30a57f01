from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "civicgrid.grids"
    label = "grids"
    verbose_name = _("网格")

    def ready(self) -> None:
        # Each request re-reads the geo index version once, on its first locate, so a
        # boundary redrawn in another process is seen from the next request on.
        from django.core.signals import request_started

        from civicgrid.core.refcache import refversion_source_add

        from .locator import GEO_VERSION_SQL, mark_check_needed

        request_started.connect(mark_check_needed, dispatch_uid="grids.locator.check_needed")
        refversion_source_add(GEO_VERSION_SQL)

        # A region's path is part of its staff's scope, which API tokens remember.
        from django.db.models.signals import post_delete, post_save

        from civicgrid.accounts.tokencache import on_auth_change

        from .models import Region

        post_save.connect(on_auth_change, sender=Region, dispatch_uid="auth-region")
        post_delete.connect(on_auth_change, sender=Region, dispatch_uid="auth-region-del")
