from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "civicgrid.core"
    label = "core"
    verbose_name = _("平台基础")

    def ready(self) -> None:
        # Domain apps register their import kinds in `<app>/imports.py` (see core/imports/).
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("imports")

        from django.core.signals import request_started

        from .refcache import mark_stale

        request_started.connect(mark_stale, dispatch_uid="core.refcache.mark_stale")
