"""Sections other apps add to the map's region panel (J6: "click one to see its code, area,
the 1+1+1+N staff with phones, and its population and open cases").

grids sits below registry and cases (DESIGN.md §4) and may not import them, so each of them
registers a provider in its AppConfig.ready(). The panel asks every provider for its section
about the region; a provider reads through the user's scope like every other read and may
answer None (nothing to show).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .models import Region


@dataclass(frozen=True)
class PanelLink:
    text: str
    url: str
    badge: str = ""  # e.g. a case's status, shown beside the link


@dataclass(frozen=True)
class PanelSection:
    title: str
    summary: str  # one line of figures: "128 人 · 户籍人口 120 · 流动人口 8"
    links: tuple[PanelLink, ...] = ()
    name: str = ""  # a stable hook for tests and styles (data-panel-section)


Provider = Callable[..., PanelSection | None]  # provider(*, user, region)
_PROVIDERS: list[tuple[int, Provider]] = []


def panel_section_add(provider: Provider, *, order: int = 50) -> None:
    """Register `provider(*, user, region) -> PanelSection | None` (from an app's ready();
    registering twice is harmless). Lower `order` shows first."""
    if all(p is not provider for _, p in _PROVIDERS):
        _PROVIDERS.append((order, provider))
        _PROVIDERS.sort(key=lambda item: item[0])


def panel_sections(*, user, region: Region) -> list[PanelSection]:
    found = (provider(user=user, region=region) for _, provider in _PROVIDERS)
    return [section for section in found if section is not None]
