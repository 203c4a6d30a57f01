"""J6 · The grid map: a street operator opens the map, sees the 13 grids by type and the unit
grids, clicks a grid and reads its code and its 1+1+1+N staff with phones."""

import re

import pytest
from django.core.management import call_command

GRID_1 = "32080300100100"  # 估衣街社区网格, the demo's first grid


@pytest.fixture
def hexia(transactional_db) -> None:
    call_command("seed_demo", verbosity=0)


def open_map(page, live_server, login, username: str = "operator") -> None:
    login(page, live_server, username)
    page.wait_for_url(re.compile(r"/grids/map/"))
    page.wait_for_selector("#grid-map[data-ready]")


def click_grid(page, code: str) -> None:
    page.locator(f'path.gm-grid[data-code="{code}"]').click()
    page.wait_for_selector(f'#region-panel [data-region-code="{code}"]')


def test_operator_reads_a_grid_on_the_map(
    hexia, live_server, page, login, screenshot, page_log
) -> None:
    open_map(page, live_server, login)
    assert page.locator("path.gm-grid").count() == 13
    assert page.locator("path.gm-unit").count() == 99
    for grid_type in ("residential", "business", "building"):
        assert page.locator(f'path.gm-grid[data-grid-type="{grid_type}"]').count() >= 2
    legend = page.locator(".gm-legend")
    for text in ("村居网格", "商圈网格", "楼宇网格", "基础网格单元"):
        assert legend.get_by_text(text).is_visible()
    assert legend.locator('[data-count="grid"]').inner_text() == "13"
    assert legend.locator('[data-count="unit"]').inner_text() == "99"
    screenshot(page, "j6-map-desktop")

    click_grid(page, GRID_1)
    panel = page.locator("#region-panel")
    assert GRID_1 in panel.inner_text()
    assert "估衣街社区网格" in panel.inner_text()
    for role in ("网格长", "网格指导员", "专职网格员", "职能网格员", "网格监督员"):
        assert panel.locator(".gm-staff").get_by_text(role, exact=True).first.is_visible()
    phones = panel.locator('.gm-staff a[href^="tel:"]')
    assert phones.count() >= 5
    assert re.fullmatch(r"1\d{10}", phones.first.inner_text())
    assert page.locator("path.gm-highlight").count() == 1
    screenshot(page, "j6-grid-panel-desktop")

    panel.locator(f'[data-unit-code="{GRID_1[:12]}01"]').click()
    page.wait_for_selector(f'#region-panel [data-region-code="{GRID_1[:12]}01"]')
    assert "基础网格单元" in panel.inner_text()
    assert page_log.errors == []
    assert page_log.external == [], "the map must not load anything from outside (no CDN)"


def test_grid_map_on_a_phone(hexia, live_server, new_page, login, screenshot, page_log) -> None:
    page = new_page("phone")
    open_map(page, live_server, login)
    assert page.locator("path.gm-grid").count() == 13
    map_box = page.locator("#grid-map").bounding_box()
    panel_box = page.locator("#region-panel").bounding_box()
    assert panel_box["y"] >= map_box["y"] + map_box["height"] - 1, "panel sits below the map"
    screenshot(page, "j6-map-phone")
    click_grid(page, GRID_1)
    page.locator("#region-panel").scroll_into_view_if_needed()
    screenshot(page, "j6-grid-panel-phone", full_page=True)
    assert page_log.errors == []


def test_grid_worker_sees_only_their_grid(hexia, live_server, page, login) -> None:
    open_map(page, live_server, login, "gridworker")
    assert page.locator("path.gm-grid").count() == 1
    assert page.locator(f'path.gm-grid[data-code="{GRID_1}"]').count() == 1


def test_panel_shows_population_and_open_cases(
    hexia, live_server, page, login, screenshot, page_log
) -> None:
    """J6's "(once the registry exists) its population and open cases": the panel counts
    the grid's people and open cases, lists the newest cases, and both lead on."""
    import shapely
    from django.utils import timezone

    from civicgrid.accounts.models import User
    from civicgrid.cases import services as case_services
    from civicgrid.cases.choices import Source
    from civicgrid.cases.models import Category
    from civicgrid.cases.seed import categories_seed
    from civicgrid.grids.models import Region
    from civicgrid.registry import services as registry_services
    from civicgrid.registry.choices import Residency

    operator = User.objects.get(username="operator")
    unit = Region.objects.get(code=f"{GRID_1[:12]}01")
    registry_services.person_create(user=operator, name="王秀英", unit=unit)
    registry_services.person_create(
        user=operator, name="李建国", unit=unit, residency=Residency.FLOATING
    )
    categories_seed()
    point = shapely.from_wkb(unit.boundary_wkb).representative_point()
    case = case_services.case_report(
        source=Source.HOTLINE, title="估衣街井盖没了", category=Category.objects.get(code="C0101"),
        lat=point.y, lng=point.x, actor=operator, reporter_name="王秀英", now=timezone.now(),
    ).case  # fmt: skip

    open_map(page, live_server, login)
    click_grid(page, GRID_1)
    population = page.locator('[data-panel-section="population"]')
    assert "2 人" in population.inner_text() and "流动人口 1" in population.inner_text()
    cases = page.locator('[data-panel-section="cases"]')
    assert "在办 1 件" in cases.inner_text() and case.number in cases.inner_text()
    screenshot(page, "j6-grid-panel-population-cases")

    population.get_by_text("查看人员名单").click()
    page.wait_for_url(re.compile(rf"/registry/\?unit={GRID_1}"))
    assert (
        page.get_by_text("王秀英").first.is_visible()
        and page.get_by_text("李建国").first.is_visible()
    )
    page.go_back()
    click_grid(page, GRID_1)
    page.locator('[data-panel-section="cases"] a').first.click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/"))
    assert case.number in page.inner_text("body")
    assert page_log.errors == []
