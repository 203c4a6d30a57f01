"""Reporting: numbers, idempotency, locating, routing by the responsibility list."""

import pytest
from django.core.exceptions import ValidationError

from civicgrid.cases import services
from civicgrid.cases.choices import Source
from civicgrid.cases.models import Case, RoutingRule
from civicgrid.cases.seed import categories_seed
from civicgrid.grids import services as grid_services

from .factories import IN_B, OUTSIDE, make_category, report

pytestmark = pytest.mark.django_db


def test_same_idempotency_key_gives_one_case(tree, actors, category):
    a = report(actors, category, key="phone-retry-1")
    b = report(actors, category, key="phone-retry-1")
    assert a.pk == b.pk and Case.objects.count() == 1
    c = report(actors, category, key="phone-retry-2")
    assert c.pk != a.pk and c.number > a.number


def test_a_replay_whose_input_no_longer_passes_still_gets_its_first_case(tree, actors, category):
    """Nothing looks for the first case before validating: a phone retrying after its
    category was disabled (or with a title it has since lost) must still get the case its
    first submission made, and a new key with the same input is refused."""
    first = report(actors, category, key="retry-after-change")
    category.is_active = False
    category.save()
    assert report(actors, category, key="retry-after-change").pk == first.pk
    again = services.case_report(
        source=Source.RESIDENT, title="", reporter=actors.resident,
        idempotency_key="retry-after-change",
    )  # fmt: skip
    assert again.case.pk == first.pk and not again.created
    with pytest.raises(ValidationError):
        report(actors, category, key="a-new-key")
    assert Case.objects.count() == 1


def test_anonymous_channels_are_idempotent_per_source(tree, actors, category):
    kw = {"reporter": None, "source": Source.OPEN311, "key": "k1"}
    assert report(actors, category, **kw).pk == report(actors, category, **kw).pk


def test_hotline_phone_is_encrypted_and_readable(tree, actors, category):
    case = report(actors, category, reporter=None, source=Source.HOTLINE,
                  reporter_phone="13912345678", actor=actors.operator)  # fmt: skip
    assert "1391234" not in case.reporter_phone_enc
    assert services.reporter_phone(case) == "13912345678"


def test_outside_and_no_position_are_kept_and_flagged(tree, actors, category):
    out = report(actors, category, point=OUTSIDE)
    assert not out.located and out.locate_reason == "不在管辖范围内" and out.path == ""
    nowhere = services.case_report(source=Source.HOTLINE, title="来电", reporter=None).case
    assert not nowhere.located and nowhere.locate_reason == "未提供位置"


def test_routing_most_specific_region_wins_then_default(tree, actors):
    district_dept = tree.dept
    street_dept = grid_services.department_create(name="街道城管", code="jdcg", region=tree.street)
    grid_dept = grid_services.department_create(name="商圈办", code="sqb", region=tree.street)
    cat = make_category(district_dept)
    assert services.route_for(cat, tree.units_b[0].path) == (district_dept, "")
    RoutingRule.objects.create(category=cat, region=tree.street, department=street_dept)
    RoutingRule.objects.create(category=cat, region=tree.grid_b, department=grid_dept)
    assert services.route_for(cat, tree.units_b[0].path)[0] == grid_dept
    assert services.route_for(cat, tree.units_a[0].path)[0] == street_dept
    assert services.route_for(cat, tree.other_unit.path)[0] == district_dept
    case = report(actors, cat, point=IN_B)
    assert case.suggested_department == grid_dept


def test_no_responsible_department_stays_in_the_queue_with_the_reason(tree, actors):
    cat = make_category(None)
    case = report(actors, cat)
    assert case.suggested_department is None and case.routing_reason == "无责任部门"


def test_area_class_from_grid_type(tree, actors, category):
    assert report(actors, category).area_class == "B"  # residential grid
    assert report(actors, category, point=IN_B).area_class == "A"  # business grid


def test_seed_categories_is_idempotent_and_searchable(tree):
    created, kept = categories_seed()
    assert created > 60 and kept == 0
    assert categories_seed() == (0, created)
    from civicgrid.cases.selectors import category_search

    names = [str(c) for c in category_search(text="井盖")]
    assert "公用设施 › 井盖缺失" in names


def test_duplicate_hook_flags_the_case(tree, actors, category, settings):
    settings.CASES_DUPLICATE_FINDER = "civicgrid.cases.tests.test_intake.finder"
    first = report(actors, category)
    second = report(actors, category)
    assert not first.duplicate_suspected and second.duplicate_suspected


def finder(case):
    from civicgrid.cases.dedup import Match

    return [Match(pk, 1.0, None, 0.0) for pk in Case.objects.values_list("pk", flat=True)]
