"""The map panel's population section (J6), registered with grids in RegistryConfig.ready()."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from civicgrid.grids.models import Region
from civicgrid.grids.panel import PanelLink, PanelSection

from . import selectors
from .choices import PersonStatus, Residency


def population_section(*, user, region: Region) -> PanelSection | None:
    """The region's people on the register, by residency, with a link to the list."""
    if not region.path:
        return None
    by_residency = selectors.population_by_residency(user=user, path=region.path)
    total = sum(by_residency.values())
    parts = [_("%(n)s 人") % {"n": total}]
    parts += [
        f"{label} {by_residency[value]}"
        for value, label in Residency.choices
        if value in by_residency
    ]
    link = PanelLink(_("查看人员名单"), _people_url(region)) if total else None
    return PanelSection(
        title=_("实有人口"),
        summary=" · ".join(parts),
        links=(link,) if link else (),
        name="population",
    )


def _people_url(region: Region) -> str:
    """The register filtered to the region and to people on it (在册), as counted here."""
    return f"{reverse('registry:people')}?unit={region.code}&status={PersonStatus.ACTIVE}"
