"""The map panel's population section (J6), registered with grids in RegistryConfig.ready()."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from civicgrid.grids.models import Region
from civicgrid.grids.panel import PanelLink, PanelSection

from . import selectors
from .choices import PersonStatus, Residency
from .models import Person


def population_section(*, user, region: Region) -> PanelSection | None:
    """People on the register (在册) in the region, by residency, in one grouped query.

    The region's path as a range, not LIKE 'path%': SQLite's LIKE cannot use the binary
    `unit_path` index, and the paths are ASCII digits and "/", so the range is exact."""
    path = region.path
    if not path:
        return None
    upper = path[:-1] + chr(ord(path[-1]) + 1)
    rows = (
        selectors._scoped(Person, user)
        .filter(unit_path__gte=path, unit_path__lt=upper, status=PersonStatus.ACTIVE)
        .order_by()
        .values_list("residency")
        .annotate(n=Count("id"))
    )
    by_residency = dict(rows)
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
    """The register filtered to the region: a unit grid by its code; a grid or community by
    the people list's unit filter, which matches any path segment."""
    return f"{reverse('registry:people')}?unit={region.code}"
