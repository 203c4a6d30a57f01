"""Intake reads categories, the responsibility list, departments and grid types from
per-process snapshots (cases/refdata.py): every edit must apply at the next intake (within
REFCACHE_REQUEST_RECHECK_SECONDS when another process made it)."""

import pytest
from django.db import connection

from civicgrid.cases.models import Case, Category, RoutingRule
from civicgrid.core.testing.refcache import refcache_later
from civicgrid.grids import services as grid_services
from civicgrid.grids.models import Department

from .factories import IN_A, IN_B, make_category, report

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases"


def _post(client, token, code="C0101", point=IN_A):
    body = {"title": "井盖没了", "category": code, "lat": point[0], "lng": point[1]}
    return client.post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


@pytest.fixture
def token(actors):
    from civicgrid.accounts.services import api_token_create

    return api_token_create(user=actors.resident, name="t")[1]


def test_a_deactivated_category_is_refused_at_the_next_intake(client, token, category):
    assert _post(client, token).status_code == 201
    category.is_active = False
    category.save()
    res = _post(client, token)
    assert res.status_code == 400 and res.json()["code"] == "unknown_category"


def test_new_rule_and_deactivated_department_route_the_next_case(tree, actors, category):
    first = report(actors, category)
    assert first.suggested_department == tree.dept
    other = grid_services.department_create(name="街道城管", code="jdcg", region=tree.street)
    RoutingRule.objects.create(category=category, region=tree.grid_a, department=other)
    assert report(actors, category).suggested_department == other
    other.is_active = False
    other.save()
    assert report(actors, category).suggested_department == tree.dept


def test_grid_type_change_changes_the_area_class(tree, actors, category):
    assert report(actors, category, point=IN_B).area_class == "A"  # business grid
    grid_services.region_update(region=tree.grid_b, grid_type="residential")
    assert report(actors, category, point=IN_B).area_class == "B"


def test_a_change_made_by_another_process_applies_within_a_second(
    client, token, category, settings, monkeypatch
):
    settings.REFCACHE_RECHECK_SECONDS = 3600
    assert _post(client, token).status_code == 201
    # Another process: the row changes and the counter moves, no signal runs here.
    Category.objects.filter(pk=category.pk).update(is_active=False)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_refversion SET version = version + 1")
    refcache_later(monkeypatch, 1.0)
    res = _post(client, token)
    assert res.status_code == 400 and Case.objects.count() == 1


def test_snapshot_categories_are_shared_read_only_rows(category):
    from civicgrid.cases import refdata

    found = refdata.category_by_code("C0101")
    assert found == category and found.parent.code == "C01"
    assert refdata.category_by_code("nope") is None
    assert make_category(None, code="C0102").pk != category.pk
    assert refdata.category_by_code("C0102") is not None  # the save bumped the snapshot
    assert Department.objects.filter(is_active=True).exists()
