"""The grids JSON API: every endpoint, pagination, filters, GeoJSON, and refused writes.

A refused write must answer 4xx in the single error shape, never 500, and leave nothing
behind: no row and no audit row.
"""

import json

import pytest

from civicgrid.accounts.choices import Role
from civicgrid.core.models import AuditLog
from civicgrid.core.testing.factories import UserFactory, api_client, rect, user_with_role
from civicgrid.grids import services
from civicgrid.grids.choices import PostRole
from civicgrid.grids.locator import locator_reset
from civicgrid.grids.models import GeoIndexState, GridPost, Region

pytestmark = pytest.mark.django_db

API = "/api/v1"
SHAPE = {"code", "message", "details"}


@pytest.fixture(autouse=True)
def _fresh_locator():
    # Test transactions roll back, so a GeoIndexState version can repeat between tests.
    locator_reset()
    yield
    locator_reset()


@pytest.fixture
def su():
    return api_client(user_with_role("superuser"))


@pytest.fixture
def admin(tree):
    return api_client(user_with_role(Role.ADMIN, tree.street))


def _post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def _put(client, url, data):
    return client.put(url, json.dumps(data), content_type="application/json")


def _assert_error(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert set(body) == SHAPE
    if code is not None:
        assert body["code"] == code
    return body


# --- reads ----------------------------------------------------------------------------------


def test_region_list_is_paginated(tree, su):
    body = su.get(f"{API}/regions", {"limit": 5}).json()
    assert body["count"] == 13 and len(body["items"]) == 5
    rest = su.get(f"{API}/regions", {"limit": 5, "offset": 10}).json()
    assert len(rest["items"]) == 3
    first = body["items"][0]
    assert first["code"] == "320803" and first["parent_code"] is None
    assert first["level_label"] == "区县" and "boundary" not in first


def test_region_list_page_size_is_capped(tree, su, monkeypatch):
    from civicgrid.grids import api as grids_api

    resp = su.get(f"{API}/regions", {"limit": 10**9})
    assert resp.status_code == 422 and resp.json()["code"] == "validation_error"
    resp = su.get(f"{API}/regions", {"limit": grids_api.MAX_PAGE})
    assert resp.status_code == 200 and len(resp.json()["items"]) == 13
    assert grids_api.MAX_PAGE <= 1000


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"level": "grid"}, ["32080300100100", "32080300100190", "32080300200100"]),
        ({"grid_type": "business"}, ["32080300100190"]),
        ({"parent": "32080300100100"}, ["32080300100101", "32080300100102"]),
        ({"q": "商圈"}, ["32080300100190", "32080300100103", "32080300100104"]),
        ({"q": "320803002"}, ["320803002", "320803002001", "32080300200100", "32080300200101"]),
        ({"level": "unit", "parent": "32080300100190"}, ["32080300100103", "32080300100104"]),
    ],
)
def test_region_list_filters(tree, su, params, expected):
    items = su.get(f"{API}/regions", params).json()["items"]
    assert sorted(r["code"] for r in items) == sorted(expected)


@pytest.mark.parametrize("params", [{"level": "planet"}, {"parent": "abc"}, {"q": "x" * 51}])
def test_region_list_bad_filter_is_422(tree, su, params):
    _assert_error(su.get(f"{API}/regions", params), 422, "validation_error")


def test_region_tree_nests_without_geometry(tree, su):
    body = su.get(f"{API}/regions/tree").json()
    assert body["count"] == 13
    (district,) = body["roots"]
    assert district["code"] == "320803"
    assert [s["code"] for s in district["children"]] == ["320803001", "320803002"]
    community = district["children"][0]["children"][0]
    grid_a = community["children"][0]
    assert [u["code"] for u in grid_a["children"]] == ["32080300100101", "32080300100102"]
    assert "boundary" not in json.dumps(body)


def test_region_tree_max_level(tree, su):
    body = su.get(f"{API}/regions/tree", {"max_level": "community"}).json()
    assert body["count"] == 5
    assert '"level": "grid"' not in json.dumps(body)


def test_region_detail_has_geojson_parent_children_area(tree, su):
    body = su.get(f"{API}/regions/32080300100100").json()
    assert body["name"] == "估衣街网格" and body["grid_type"] == "residential"
    assert body["grid_type_label"] == "村居网格"
    assert body["parent"] == {"code": "320803001001", "name": "估衣街社区", "level": "community"}
    assert body["children"] == ["32080300100101", "32080300100102"]
    assert body["path_codes"] == ["320803", "320803001", "320803001001", "32080300100100"]
    assert body["boundary"]["type"] == "Polygon"
    lngs = [p[0] for p in body["boundary"]["coordinates"][0]]
    assert min(lngs) == pytest.approx(119.10) and max(lngs) == pytest.approx(119.125)
    assert body["bbox"] == pytest.approx([119.10, 33.48, 119.125, 33.52])
    # 0.025° × 0.04° at 33.5°N ≈ 2.32 km × 4.42 km
    assert 9.5e6 < body["area_m2"] < 1.1e7


def test_region_detail_unknown_is_404(tree, su):
    _assert_error(su.get(f"{API}/regions/32080399999999"), 404, "not_found")


def test_departments_list_and_detail(tree, su):
    services.department_create(name="市场监管局", code="scjg", region=tree.street, phone="0517-1")
    body = su.get(f"{API}/departments", {"limit": 1}).json()
    assert body["count"] == 2 and len(body["items"]) == 1
    found = su.get(f"{API}/departments", {"q": "市场"}).json()["items"]
    assert [d["code"] for d in found] == ["scjg"]
    assert found[0]["region_code"] == "320803001" and found[0]["phone"] == "0517-1"
    detail = su.get(f"{API}/departments/{tree.dept.pk}").json()
    assert detail["name"] == "城管局" and detail["region_name"] == "淮安区"
    _assert_error(su.get(f"{API}/departments/999999"), 404, "not_found")


@pytest.fixture
def posts(tree):
    leader = UserFactory(name="王网格长", phone="0517-8000001")
    worker = UserFactory(name="李网格员", phone="0517-8000002")
    functional = UserFactory(name="赵职能")
    assign = services.grid_post_assign
    return {
        "leader": assign(grid=tree.grid_a, role=PostRole.LEADER, user=leader),
        "worker": assign(grid=tree.grid_b, role=PostRole.FULLTIME, user=worker),
        "functional": assign(
            grid=tree.grid_a, role=PostRole.FUNCTIONAL, user=functional, department=tree.dept
        ),
    }


def test_posts_list_shows_name_role_department_phone(tree, su, posts):
    body = su.get(f"{API}/posts").json()
    assert body["count"] == 3
    leader = next(p for p in body["items"] if p["role"] == "leader")
    assert leader["user_name"] == "王网格长" and leader["phone"] == "0517-8000001"
    assert leader["role_label"] == "网格长" and leader["grid_code"] == "32080300100100"
    functional = next(p for p in body["items"] if p["role"] == "functional")
    assert functional["department_name"] == "城管局"


@pytest.mark.parametrize(
    ("params", "roles"),
    [
        ({"grid": "32080300100100"}, ["functional", "leader"]),
        ({"role": "fulltime"}, ["fulltime"]),
        ({"department": "DEPT"}, ["functional"]),
    ],
)
def test_posts_filters(tree, su, posts, params, roles):
    params = {k: tree.dept.pk if v == "DEPT" else v for k, v in params.items()}
    items = su.get(f"{API}/posts", params).json()["items"]
    assert sorted(p["role"] for p in items) == roles


def test_region_posts_cover_the_subtree(tree, su, posts):
    grid_a = su.get(f"{API}/regions/32080300100100/posts").json()
    assert sorted(p["role"] for p in grid_a["items"]) == ["functional", "leader"]
    community = su.get(f"{API}/regions/320803001001/posts").json()
    assert community["count"] == 3
    assert su.get(f"{API}/regions/32080300200100/posts").json()["count"] == 0


def test_ended_post_is_not_listed(tree, su, posts):
    services.grid_post_end(post=posts["leader"])
    assert su.get(f"{API}/posts").json()["count"] == 2


# --- locate ---------------------------------------------------------------------------------


def test_locate_inside_gives_unit_and_ancestors(tree):
    client = api_client(UserFactory())  # no role at all: locate is public information
    body = client.get(f"{API}/locate", {"lat": 33.49, "lng": 119.11}).json()
    assert body["inside"] is True
    assert body["unit"] == {"code": "32080300100101", "name": "估衣街1单元", "level": "unit"}
    assert [a["code"] for a in body["ancestors"]] == [
        "320803", "320803001", "320803001001", "32080300100100",
    ]  # fmt: skip
    assert body["point"] == {"lat": 33.49, "lng": 119.11}


def test_locate_outside_is_200_with_message(tree):
    body = api_client(UserFactory()).get(f"{API}/locate", {"lat": 39.9, "lng": 116.4}).json()
    assert body["inside"] is False and body["message"] == "不在管辖范围内"
    assert body["unit"] is None and body["ancestors"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"lat": 91, "lng": 119.1},
        {"lat": 33.5, "lng": -181},
        {"lat": "nan", "lng": 119.1},
        {"lat": "abc", "lng": 119.1},
        {"lat": 33.5},
        {"lat": 33.5, "lng": 119.1, "crs": "mars"},
    ],
)
def test_locate_invalid_coordinates_are_422(tree, su, params):
    _assert_error(su.get(f"{API}/locate", params), 422, "validation_error")


def test_locate_value_error_from_locator_is_400(tree, su, monkeypatch):
    from civicgrid.grids import locator

    def boom(lat, lng):
        raise ValueError("坐标无效")

    monkeypatch.setattr(locator, "locate", boom)
    _assert_error(su.get(f"{API}/locate", {"lat": 1, "lng": 2}), 400, "invalid_coordinates")


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_locate_converts_other_crs(tree, su, crs):
    from civicgrid.core.coords import convert

    lng, lat = convert(119.11, 33.49, src="wgs84", dst=crs)
    assert abs(lng - 119.11) > 1e-4  # the shift is real, so the conversion is exercised
    body = su.get(f"{API}/locate", {"lat": lat, "lng": lng, "crs": crs}).json()
    assert body["inside"] is True and body["unit"]["code"] == "32080300100101"
    assert body["point"]["lat"] == pytest.approx(33.49, abs=1e-6)
    assert body["point"]["lng"] == pytest.approx(119.11, abs=1e-6)


def test_locate_sees_a_redrawn_boundary(tree, su):
    point = {"lat": 33.49, "lng": 119.19}
    assert su.get(f"{API}/locate", point).json()["unit"]["code"] == "32080300200101"
    resp = _put(
        su,
        f"{API}/regions/32080300200101/boundary",
        {"boundary": rect(119.15, 33.50, 119.20, 33.52)},
    )
    assert resp.status_code == 200
    assert su.get(f"{API}/locate", point).json()["inside"] is False


# --- writes ---------------------------------------------------------------------------------


NEW_UNIT = {
    "name": "估衣街3单元",
    "level": "unit",
    "code": "32080300100105",
    "parent_code": "32080300100100",
}


def test_create_region_with_boundary(tree, admin):
    # Shrink unit 2 of grid A to make room, then add unit 3 in the freed strip.
    _put(
        admin,
        f"{API}/regions/32080300100102/boundary",
        {"boundary": rect(119.10, 33.50, 119.125, 33.51)},
    )
    data = {**NEW_UNIT, "boundary": rect(119.10, 33.51, 119.125, 33.52)}
    before = GeoIndexState.objects.get().version
    resp = _post(admin, f"{API}/regions", data)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["code"] == "32080300100105" and body["parent"]["code"] == "32080300100100"
    assert body["boundary"]["type"] == "Polygon" and body["area_m2"] > 0
    assert GeoIndexState.objects.get().version == before + 1
    audit = AuditLog.objects.filter(object_type="grids.region", object_id=str(body_pk(body)))
    assert audit.filter(action="create").count() == 1
    assert audit.get().actor_label == admin_username(admin)


def body_pk(body: dict) -> int:
    return Region.objects.values_list("pk", flat=True).get(code=body["code"])


def admin_username(client) -> str:
    from django.contrib.auth import get_user_model

    uid = client.session["_auth_user_id"]
    return get_user_model().objects.get(pk=uid).username


def test_create_region_without_boundary(tree, su):
    resp = _post(su, f"{API}/regions", NEW_UNIT)
    assert resp.status_code == 201 and resp.json()["boundary"] is None


BAD_SCHEMA = [
    ("missing name", {k: v for k, v in NEW_UNIT.items() if k != "name"}),
    ("missing level", {k: v for k, v in NEW_UNIT.items() if k != "level"}),
    ("empty name", {**NEW_UNIT, "name": "   "}),
    ("oversized name", {**NEW_UNIT, "name": "网" * 101}),
    ("script in name", {**NEW_UNIT, "name": "<script>alert(1)</script>"}),
    ("control char in name", {**NEW_UNIT, "name": "单元\x00"}),
    ("letters in code", {**NEW_UNIT, "code": "3208030010010A"}),
    ("script in code", {**NEW_UNIT, "code": "<script>"}),
    ("sql in code", {**NEW_UNIT, "code": "1' OR '1'='1"}),
    ("too long code", {**NEW_UNIT, "code": "3" * 15}),
    ("unknown level", {**NEW_UNIT, "level": "planet"}),
    ("unknown grid type", {**NEW_UNIT, "grid_type": "castle"}),
    ("boundary not an object", {**NEW_UNIT, "boundary": "POLYGON((0 0,1 1))"}),
    ("name not a string", {**NEW_UNIT, "name": ["a"]}),
]


@pytest.mark.parametrize(("label", "data"), BAD_SCHEMA, ids=[b[0] for b in BAD_SCHEMA])
def test_create_region_refuses_bad_input_422(tree, admin, label, data):
    _assert_refused(admin, data, 422, "validation_error")


BAD_DOMAIN = [
    ("code not under parent", {**NEW_UNIT, "code": "32080300200105"}, "invalid"),
    ("unit code 00", {**NEW_UNIT, "code": "32080300100100"}, "invalid"),
    ("wrong level under grid", {**NEW_UNIT, "level": "community", "code": "320803001002"},
     "invalid"),
    ("grid without type", {**NEW_UNIT, "level": "grid", "code": "32080300100191",
                           "parent_code": "320803001001"}, "invalid"),
    ("duplicate code", {**NEW_UNIT, "code": "32080300100101"}, "invalid"),
    ("unknown parent", {**NEW_UNIT, "parent_code": "32080300100199"}, "unknown_parent"),
    ("parent out of scope", {**NEW_UNIT, "parent_code": "32080300200100",
                             "code": "32080300200102"}, "unknown_parent"),
    ("geometry type", {**NEW_UNIT, "boundary": {"type": "Point", "coordinates": [119.1, 33.5]}},
     "invalid_geometry_type"),
    ("bow-tie ring", {**NEW_UNIT, "boundary": {"type": "Polygon", "coordinates": [[
        [119.10, 33.48], [119.12, 33.50], [119.12, 33.48], [119.10, 33.50], [119.10, 33.48]]]}},
     "invalid_ring"),
    ("garbage coordinates", {**NEW_UNIT, "boundary": {"type": "Polygon",
                                                      "coordinates": [["<script>"]]}},
     "invalid_coordinates"),
    ("outside parent", {**NEW_UNIT, "boundary": rect(119.16, 33.48, 119.17, 33.49)},
     "outside_parent"),
    ("overlaps sibling", {**NEW_UNIT, "boundary": rect(119.10, 33.48, 119.125, 33.49)},
     "overlaps_sibling"),
    ("out of range", {**NEW_UNIT, "boundary": rect(190, 33.48, 191, 33.49)},
     "coordinates_out_of_range"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "data", "code"), BAD_DOMAIN, ids=[b[0] for b in BAD_DOMAIN])
def test_create_region_refuses_bad_domain_input_400(tree, admin, label, data, code):
    body = _assert_refused(admin, data, 400, code)
    assert body["message"]


def _assert_refused(client, data, status, code) -> dict:
    regions, audits = Region.objects.count(), AuditLog.objects.count()
    version = GeoIndexState.objects.get().version
    body = _assert_error(_post(client, f"{API}/regions", data), status, code)
    assert Region.objects.count() == regions, "a refused create must leave no row"
    assert AuditLog.objects.count() == audits, "a refused create must leave no audit row"
    assert GeoIndexState.objects.get().version == version
    return body


def test_duplicate_code_message_names_the_field(tree, su):
    body = _assert_refused(su, {**NEW_UNIT, "code": "32080300100101"}, 400, "invalid")
    assert "code" in body["details"] and "已被使用" in body["message"]


def test_boundary_error_says_where(tree, su):
    data = {**NEW_UNIT, "boundary": rect(119.10, 33.48, 119.125, 33.49)}
    body = _assert_refused(su, data, 400, "overlaps_sibling")
    assert set(body["details"]["where"]) == {"lat", "lng"}


def test_malformed_json_body_is_400_in_shape(tree, admin):
    resp = admin.post(f"{API}/regions", "{not json", content_type="application/json")
    _assert_error(resp, 400, "bad_request")


def test_deeply_nested_body_is_refused_not_500(tree, admin):
    deep = "[" * 100_000 + "]" * 100_000
    resp = admin.post(f"{API}/regions", deep, content_type="application/json")
    assert resp.status_code in (400, 422)
    assert set(resp.json()) == SHAPE


def test_oversized_body_is_413(tree, admin, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    data = {**NEW_UNIT, "boundary": rect(119.10, 33.51, 119.125, 33.52), "pad": "x" * 2000}
    _assert_refused(admin, data, 413, "too_large")


def test_set_boundary_validates_and_audits(tree, admin):
    url = f"{API}/regions/32080300100101/boundary"
    bad = _put(admin, url, {"boundary": rect(119.10, 33.48, 119.125, 33.51)})  # overlaps unit 2
    _assert_error(bad, 400, "overlaps_sibling")
    audits = AuditLog.objects.count()
    ok = _put(admin, url, {"boundary": rect(119.10, 33.48, 119.12, 33.50)})
    assert ok.status_code == 200 and ok.json()["bbox"] == pytest.approx(
        [119.10, 33.48, 119.12, 33.50]
    )
    assert AuditLog.objects.count() == audits + 1
    _assert_error(_put(admin, url, {}), 422, "validation_error")


def test_post_create_and_end(tree, admin):
    user = UserFactory(name="新网格员")
    data = {"grid_code": "32080300100100", "role": "fulltime", "user_id": user.pk}
    resp = _post(admin, f"{API}/posts", data)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["user_name"] == "新网格员" and body["role"] == "fulltime"
    assert user.assignments.get().role == Role.GRID_WORKER
    _assert_error(
        _post(admin, f"{API}/posts", {**data, "user_id": UserFactory().pk}), 400, "invalid"
    )
    assert admin.delete(f"{API}/posts/{body['id']}").status_code == 204
    assert not GridPost.objects.get(pk=body["id"]).is_active
    assert not user.assignments.exists()
    _assert_error(admin.delete(f"{API}/posts/{body['id']}"), 400, "invalid")


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"grid_code": "32080300100100", "role": "functional", "user_id": "USER"}, 400, "invalid"),
        ({"grid_code": "32080300100100", "role": "chief", "user_id": "USER"}, 422, None),
        ({"grid_code": "32080300100100", "role": "leader", "user_id": 999999}, 400,
         "unknown_user"),
        ({"grid_code": "32080300200100", "role": "leader", "user_id": "USER"}, 400,
         "unknown_grid"),
        ({"grid_code": "320803001001", "role": "leader", "user_id": "USER"}, 400, "invalid"),
        ({"grid_code": "32080300100100", "role": "functional", "user_id": "USER",
          "department_id": 999999}, 400, "unknown_department"),
        ({"grid_code": "<script>", "role": "leader", "user_id": "USER"}, 422, None),
        ({"role": "leader", "user_id": "USER"}, 422, None),
    ],
)  # fmt: skip
def test_post_create_refuses_bad_input(tree, admin, data, status, code):
    data = {k: UserFactory().pk if v == "USER" else v for k, v in data.items()}
    posts, audits = GridPost.objects.count(), AuditLog.objects.count()
    _assert_error(_post(admin, f"{API}/posts", data), status, code)
    assert GridPost.objects.count() == posts and AuditLog.objects.count() == audits


def test_admin_cannot_end_post_outside_scope(tree, admin):
    post = services.grid_post_assign(grid=tree.other_grid, role=PostRole.LEADER, user=UserFactory())
    _assert_error(admin.delete(f"{API}/posts/{post.pk}"), 404, "not_found")
    assert GridPost.objects.get(pk=post.pk).is_active


def test_admin_cannot_redraw_outside_scope(tree, admin):
    url = f"{API}/regions/32080300200101/boundary"
    _assert_error(_put(admin, url, {"boundary": rect(119.15, 33.48, 119.20, 33.50)}), 404)


def test_street_admin_cannot_create_a_street(tree, admin):
    data = {"name": "新街道", "level": "street", "code": "320803003", "parent_code": "320803"}
    _assert_error(_post(admin, f"{API}/regions", data), 400, "unknown_parent")
    data.pop("parent_code")
    _assert_error(_post(admin, f"{API}/regions", data), 403, "forbidden")


# --- schema and docs ------------------------------------------------------------------------


def test_openapi_lists_every_endpoint(client):
    resp = client.get(f"{API}/openapi.json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    for path in [
        "/api/v1/regions", "/api/v1/regions/tree", "/api/v1/regions/{code}",
        "/api/v1/regions/{code}/boundary", "/api/v1/regions/{code}/posts", "/api/v1/locate",
        "/api/v1/departments", "/api/v1/departments/{dept_id}", "/api/v1/posts",
        "/api/v1/posts/{post_id}", "/api/v1/accounts/me", "/api/v1/accounts/tokens",
    ]:  # fmt: skip
        assert path in paths, path


def test_docs_page_answers(client):
    resp = client.get(f"{API}/docs")
    assert resp.status_code == 200 and b"openapi.json" in resp.content
