from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = "案件闭环"
    default_auto_field = "django.db.models.BigAutoField"
