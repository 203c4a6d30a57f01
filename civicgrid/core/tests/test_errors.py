"""One error shape across the API: `{"code", "message", "details"}`, machine codes in English,
messages in Chinese, no internals leaked."""

import json
import re

import pytest

from civicgrid.accounts.choices import Role
from civicgrid.core.testing.factories import api_client, user_with_role

pytestmark = pytest.mark.django_db

API = "/api/v1"
HAN = re.compile(r"[\u4e00-\u9fff]")


def _shape(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert re.fullmatch(r"[a-z0-9_]+", body["code"])
    assert HAN.search(body["message"]), "messages are Chinese"
    return body


@pytest.fixture
def operator(tree):
    return api_client(user_with_role(Role.OPERATOR, tree.street))


def _post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/regions"),
        ("get", "/regions/tree"),
        ("get", "/regions/320803001"),
        ("get", "/departments"),
        ("get", "/posts"),
        ("get", "/locate?lat=33.5&lng=119.1"),
        ("get", "/accounts/me"),
        ("get", "/accounts/tokens"),
        ("post", "/regions"),
        ("post", "/posts"),
        ("delete", "/posts/1"),
        ("delete", "/accounts/tokens/1"),
    ],
)
def test_401_everywhere_without_credentials(tree, method, url):
    resp = getattr(api_client(), method)(f"{API}{url}")
    _shape(resp, 401, "unauthorized")


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("post", "/regions", {"name": "x", "level": "unit", "code": "32080300100105",
                              "parent_code": "32080300100100"}),
        ("put", "/regions/32080300100101/boundary", {"boundary": {"type": "Polygon"}}),
        ("post", "/posts", {"grid_code": "32080300100100", "role": "leader", "user_id": 1}),
        ("delete", "/posts/1", None),
    ],
)  # fmt: skip
def test_403_for_writes_without_admin_rights(operator, method, url, data):
    kwargs = {"content_type": "application/json"}
    body = json.dumps(data) if data is not None else ""
    resp = getattr(operator, method)(f"{API}{url}", body, **kwargs)
    _shape(resp, 403, "forbidden")


@pytest.mark.parametrize(
    "url",
    [
        "/regions/320803",  # exists, outside the operator's street
        "/regions/32080300200100",
        "/regions/99999999999999",  # does not exist: same answer
        "/regions/32080300200100/posts",
        "/departments/999999",
    ],
)
def test_404_outside_scope_equals_missing(operator, url):
    _shape(operator.get(f"{API}{url}"), 404, "not_found")


@pytest.mark.parametrize(
    "url",
    ["/regions?level=planet", "/regions?limit=0", "/regions?offset=-1", "/locate?lat=100&lng=1",
     "/locate?lat=x&lng=1", "/posts?department=abc", "/departments/abc"],
)  # fmt: skip
def test_422_with_field_details(operator, url):
    body = _shape(operator.get(f"{API}{url}"), 422, "validation_error")
    assert body["details"] and all({"loc", "type", "msg"} <= set(d) for d in body["details"])


def test_400_for_service_refusal(tree):
    client = api_client(user_with_role("superuser"))
    data = {"name": "重复", "level": "unit", "code": "32080300100101",
            "parent_code": "32080300100100"}  # fmt: skip
    body = _shape(_post(client, f"{API}/regions", data), 400, "invalid")
    assert "code" in body["details"]


def test_400_for_geometry_keeps_its_code(tree):
    client = api_client(user_with_role("superuser"))
    data = {"boundary": {"type": "LineString", "coordinates": [[119.1, 33.5], [119.2, 33.5]]}}
    resp = client.put(
        f"{API}/regions/32080300100101/boundary", json.dumps(data),
        content_type="application/json",
    )  # fmt: skip
    body = _shape(resp, 400, "invalid_geometry_type")
    assert "where" in body["details"]


def test_400_for_unparseable_body(operator):
    resp = operator.post(f"{API}/accounts/tokens", "{", content_type="application/json")
    _shape(resp, 400, "bad_request")


def test_500_is_generic_and_leaks_nothing(operator, monkeypatch):
    from civicgrid.grids import selectors

    def broken(**kwargs):
        raise RuntimeError("SELECT secret FROM internals")

    monkeypatch.setattr(selectors, "region_list", broken)
    resp = operator.get(f"{API}/regions")
    body = _shape(resp, 500, "internal_error")
    assert body["details"] is None and "secret" not in resp.content.decode()


def test_unknown_api_url_answers_in_the_error_shape(client):
    resp = client.get("/api/v1/no/such/thing")
    assert resp.status_code == 404
    assert resp.json()["code"] == "not_found"


def test_answers_are_compact_utf8_like_the_case_intake(tree, operator):
    """Errors and successes alike: Chinese as UTF-8 bytes, no `\\uXXXX` escapes, no padding, so
    the API answers in one style (the case intake writes its own answer that way)."""
    refused = api_client().get(f"{API}/regions")
    body = _shape(refused, 401, "unauthorized")
    assert body["message"].encode() in refused.content
    assert b"\\u" not in refused.content and b'", "' not in refused.content
    listed = operator.get(f"{API}/regions")
    assert listed.status_code == 200 and listed["Content-Type"].endswith("charset=utf-8")
    rows = listed.json()
    name = (rows["items"] if isinstance(rows, dict) else rows)[0]["name"]
    assert name and HAN.search(name) and name.encode() in listed.content
    assert b"\\u" not in listed.content
