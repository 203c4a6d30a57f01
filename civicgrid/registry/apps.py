from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "civicgrid.registry"
    label = "registry"
    verbose_name = "人口与实有单位登记"

    def ready(self) -> None:
        """The map panel shows each region's population (J6)."""
        from civicgrid.grids.panel import panel_section_add

        from .panel import population_section

        panel_section_add(population_section, order=10)
