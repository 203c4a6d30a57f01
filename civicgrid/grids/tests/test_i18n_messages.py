"""Grid refusals follow the request's language: Chinese by default, English with the language
cookie or `Accept-Language: en` (the msgids are Chinese; English comes from the catalogue)."""

import json

import pytest
from django.conf import settings
from django.utils import translation

from civicgrid.core.testing.factories import api_client, user_with_role
from civicgrid.grids import services
from civicgrid.grids.codes import CodeError, validate_code
from civicgrid.grids.coverage import grid_coverage_report
from civicgrid.grids.locator import locator_reset

pytestmark = pytest.mark.django_db

API = "/api/v1"
EN = {"accept-language": "en"}
DUPLICATE = {"name": "估衣街3单元", "level": "unit", "code": "32080300100101",
             "parent_code": "32080300100100"}  # fmt: skip
BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}


@pytest.fixture(autouse=True)
def _restore_language():
    """LocaleMiddleware activates the request's language and never deactivates it."""
    before = translation.get_language()
    locator_reset()
    yield
    locator_reset()
    translation.activate(before) if before else translation.deactivate()


@pytest.fixture
def su():
    return api_client(user_with_role("superuser"))


def _post(client, url, data, **headers):
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


def test_duplicate_code_in_english_with_accept_language(tree, su):
    body = _post(su, f"{API}/regions", DUPLICATE, **EN).json()
    assert body["code"] == "invalid"
    assert body["message"] == "Code 32080300100101 is already in use"
    assert body["details"]["code"] == ["Code 32080300100101 is already in use"]


def test_duplicate_code_in_chinese_by_default(tree, su):
    body = _post(su, f"{API}/regions", DUPLICATE).json()
    assert body["message"] == "编码 32080300100101 已被使用"


def test_permission_refusal_in_english_with_language_cookie(tree):
    client = api_client(user_with_role(None))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    resp = _post(client, f"{API}/regions", DUPLICATE)
    assert resp.status_code == 403
    assert resp.json()["message"] == "System administrator rights required"


def test_boundary_refusals_in_english(tree, su):
    url = f"{API}/regions/{tree.units_a[0].code}/boundary"
    put = {"content_type": "application/json", "headers": EN}
    point = {"boundary": {"type": "Point", "coordinates": [119.1, 33.5]}}
    body = su.put(url, json.dumps(point), **put).json()
    assert (body["code"], body["message"]) == (
        "invalid_geometry_type", "The boundary type must be Polygon or MultiPolygon"
    )  # fmt: skip
    body = su.put(url, json.dumps({"boundary": BOWTIE}), **put).json()
    assert body["code"] == "invalid_ring"
    assert body["message"].startswith("Boundary self-intersection")


def test_name_validator_in_english(tree, su):
    resp = _post(su, f"{API}/regions", {**DUPLICATE, "name": "<b>x</b>"}, **EN)
    assert resp.status_code == 422
    assert "Must not contain < > or control characters" in resp.json()["details"][0]["msg"]


def test_locate_outside_in_english_and_chinese(tree, su):
    point = {"lat": 10, "lng": 10}
    assert su.get(f"{API}/locate", point, headers=EN).json()["message"] == (
        "Outside the managed area"
    )
    assert su.get(f"{API}/locate", point).json()["message"] == "不在管辖范围内"


def test_code_and_coverage_messages_follow_the_active_language(tree):
    with translation.override("en"), pytest.raises(CodeError) as err:
        validate_code(code="3208030", level="street", parent_code="320803")
    assert str(err.value) == "Street code must have 9 digits; got 7"
    with translation.override("zh-hans"), pytest.raises(CodeError) as err:
        validate_code(code="3208030", level="street", parent_code="320803")
    assert str(err.value) == "街道编码应为9位,收到7位"

    with translation.override("en"):
        report = grid_coverage_report(grid=tree.grid_a)
    assert report["ok"] and report["message"].startswith("The unit grids cover the grid")
    grid = services.region_create(name="楼宇网格", level="grid", code="32080300100191",
                                  parent=tree.community, grid_type="building")  # fmt: skip
    with translation.override("en"):
        assert grid_coverage_report(grid=grid)["message"] == "Grid “楼宇网格” has no boundary yet"
    assert grid_coverage_report(grid=grid)["message"] == "网格“楼宇网格”尚未绘制边界"
