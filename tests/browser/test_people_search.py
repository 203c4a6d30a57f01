"""The people list on a phone: a bare surname typed into the search box swaps the rows in
(HTMX) with the capped count ("超过 N 人") and a "+" on the pager; a grid worker sees only
their own grid's people."""

import pytest

from civicgrid.accounts.choices import Role
from civicgrid.registry import selectors, services
from civicgrid.registry.tests.factories import make_id, staff


@pytest.fixture
def crowded(transactional_db):
    from civicgrid.core.testing.factories import make_tree

    tree = make_tree()
    worker = staff(Role.GRID_WORKER, tree.grid_a, username="wanggrid")
    worker.set_password("pw-search-123")
    worker.save()
    other = staff(Role.GRID_WORKER, tree.grid_b)
    for i in range(40):
        name = f"王{'甲乙丙丁'[i % 4]}{i}"
        services.person_create(user=worker, unit=tree.units_a[i % 2], name=name,
                               id_number=make_id(), phone="")  # fmt: skip
    services.person_create(user=other, unit=tree.units_b[0], name="王外格", id_number=make_id(),
                           phone="")  # fmt: skip
    return worker


def test_bare_surname_on_a_phone_shows_the_capped_count(
    crowded, live_server, new_page, login, screenshot, page_log, monkeypatch
) -> None:
    monkeypatch.setattr(selectors, "COUNT_CAP", 35)
    page = new_page("phone")
    login(page, live_server, "wanggrid", "pw-search-123")
    page.goto(f"{live_server.url}/registry/")
    with page.expect_response(lambda r: "/registry/?q=" in r.url):
        page.fill("input[name=q]", "王")
    page.wait_for_selector("#people-count:has-text('超过 35 人')")
    rows = page.locator("#people-rows .list-group-item-action")
    assert rows.count() == 30
    assert "1 / 2+" in page.inner_text("#people-rows .pagination")
    assert "王外格" not in page.inner_text("#people-rows")
    screenshot(page, "registry-people-surname-capped", full_page=True)
    page.click("#people-rows a.page-link:has-text('下一页')")
    page.wait_for_selector(".pagination :text('2 / 2+')")
    assert page.locator("#people-rows .list-group-item-action").count() == 5
    assert page_log.errors == []
