"""The map panel's population section: people on the register by residency, in scope."""

import pytest
from django.urls import reverse

from civicgrid.accounts.choices import Role
from civicgrid.registry import services
from civicgrid.registry.choices import PersonStatus, Residency
from civicgrid.registry.panel import population_section

from .factories import person, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(tree):
    return staff(Role.GRID_WORKER, tree.grid_a)


def test_counts_people_of_the_region_by_residency(tree, worker) -> None:
    unit = tree.units_a[0]
    person(worker, unit, name="甲")
    person(worker, unit, name="乙", residency=Residency.FLOATING)
    person(worker, tree.units_a[1], name="丙")
    gone = person(worker, tree.units_a[1], name="丁")
    services.person_update(user=worker, person=gone, status=PersonStatus.MOVED_OUT)
    section = population_section(user=worker, region=tree.grid_a)
    assert section.name == "population"
    assert section.summary == "3 人 · 户籍人口 2 · 流动人口 1"  # the moved-out one not counted
    people = reverse("registry:people")
    assert section.links[0].url == f"{people}?unit={tree.grid_a.code}&status=active"
    unit_only = population_section(user=worker, region=unit)
    assert unit_only.summary.startswith("2 人")


def test_people_out_of_the_users_scope_are_not_counted(tree, worker) -> None:
    person(worker, tree.units_a[0])
    worker_b = staff(Role.GRID_WORKER, tree.grid_b)
    section = population_section(user=worker_b, region=tree.grid_a)
    assert section.summary.startswith("0 人") and section.links == ()


def test_people_list_filters_by_the_panels_region(client, tree, worker) -> None:
    person(worker, tree.units_a[0], name="甲一")
    person(worker, tree.units_a[1], name="乙二")
    gone = person(worker, tree.units_a[0], name="丙三")
    services.person_update(user=worker, person=gone, status=PersonStatus.MOVED_OUT)
    client.force_login(worker)
    url = population_section(user=worker, region=tree.units_a[0]).links[0].url
    text = client.get(url).content.decode()
    assert "甲一" in text and "乙二" not in text and "丙三" not in text  # as the panel counted
    assert "data-unit-filter" in text and "data-status-filter" in text
    for junk in ({"unit": "<script>"}, {"status": "<script>"}, {"unit": "１２３"}):
        page = client.get(reverse("registry:people"), junk)
        assert page.status_code == 200 and "data-unit-filter" not in page.content.decode()
    nowhere = client.get(reverse("registry:people"), {"unit": "1" * 30}).content.decode()
    assert "甲一" not in nowhere and "乙二" not in nowhere  # a code of no region: no one


def test_unit_filter_takes_any_region_code(tree, worker) -> None:
    from civicgrid.registry import selectors

    first = person(worker, tree.units_a[0], name="甲一")
    second = person(worker, tree.units_a[1], name="乙二")
    by_code = {
        code: set(selectors.person_list(user=worker, unit=code))
        for code in (tree.grid_a.code, tree.units_a[0].code, tree.grid_b.code, "99999999999999")
    }
    assert by_code[tree.grid_a.code] == {first, second}
    assert by_code[tree.units_a[0].code] == {first}
    assert by_code[tree.grid_b.code] == set() and by_code["99999999999999"] == set()
