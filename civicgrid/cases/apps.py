from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = "案件闭环"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Keep the intake's reference snapshots (cases/refdata.py) in step with edits."""
        from civicgrid.grids.models import Department, Region

        from . import refdata
        from .models import Category, RoutingRule

        for model in (Category, RoutingRule, Department):
            post_save.connect(
                refdata.on_reference_change, sender=model, dispatch_uid=f"ref-{model}"
            )
            post_delete.connect(
                refdata.on_reference_change, sender=model, dispatch_uid=f"ref-del-{model}"
            )
        post_save.connect(refdata.on_region_change, sender=Region, dispatch_uid="ref-region")
        post_delete.connect(refdata.on_region_change, sender=Region, dispatch_uid="ref-region-del")

        from civicgrid.grids.panel import panel_section_add  # the map panel's open cases (J6)

        from .panel import open_cases_section

        panel_section_add(open_cases_section, order=20)
