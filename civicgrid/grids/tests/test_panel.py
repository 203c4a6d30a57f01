"""The region panel's section hook: registration, order, and providers with nothing to say."""

import pytest

from civicgrid.grids import panel
from civicgrid.grids.panel import PanelSection, panel_section_add, panel_sections


@pytest.fixture
def providers(monkeypatch):
    """A clean provider list for the test (the apps' own providers are put back after)."""
    monkeypatch.setattr(panel, "_PROVIDERS", [])


def _provider(title):
    def provide(*, user, region):
        return PanelSection(title=title, summary=f"{region} for {user}")

    return provide


def test_sections_come_in_order_and_none_is_skipped(providers) -> None:
    second, first = _provider("second"), _provider("first")
    panel_section_add(second, order=20)
    panel_section_add(first, order=10)
    panel_section_add(lambda *, user, region: None, order=15)
    sections = panel_sections(user="u", region="r")
    assert [s.title for s in sections] == ["first", "second"]
    assert sections[0].summary == "r for u"


def test_registering_twice_adds_once(providers) -> None:
    provide = _provider("only")
    panel_section_add(provide)
    panel_section_add(provide)
    assert len(panel_sections(user=None, region=None)) == 1


def test_the_apps_register_population_and_cases() -> None:
    names = [p.__name__ for _, p in panel._PROVIDERS]
    assert names == ["population_section", "open_cases_section"]
