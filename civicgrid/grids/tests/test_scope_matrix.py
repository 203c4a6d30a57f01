"""Role by role, exactly what the grids API shows and allows (DESIGN.md §4: scope is data).

The `tree` fixture: district 320803 → street 320803001 (community 320803001001 → grid A
32080300100100 with units 01, 02 and grid B 32080300100190 with units 03, 04) and a second
street 320803002 → community → grid 32080300200100 → unit 32080300200101.
Departments: 城管局 "cg" serves the district, "gb" grid B, "hc" the second street.
"""

import json
from dataclasses import dataclass

import pytest

from civicgrid.accounts.choices import Role
from civicgrid.core.testing.factories import UserFactory, api_client, rect, user_with_role
from civicgrid.grids import services
from civicgrid.grids.choices import PostRole

pytestmark = pytest.mark.django_db

API = "/api/v1"
DISTRICT = "320803"
STREET = "320803001"
COMMUNITY = "320803001001"
GRID_A = "32080300100100"
GRID_B = "32080300100190"
UNITS_A = {"32080300100101", "32080300100102"}
UNITS_B = {"32080300100103", "32080300100104"}
OTHER = {"320803002", "320803002001", "32080300200100", "32080300200101"}

SEES_GRID_A = {GRID_A} | UNITS_A
SEES_STREET = {STREET, COMMUNITY, GRID_A, GRID_B} | UNITS_A | UNITS_B
SEES_ALL = {DISTRICT} | SEES_STREET | OTHER
ALL_CODES = sorted(SEES_ALL)


@dataclass(frozen=True)
class Expect:
    """What one role must see and may do. Sets are exact."""

    regions: frozenset[str]
    roots: tuple[str, ...]
    departments: frozenset[str]
    post_grids: tuple[str, ...]  # grid codes of the visible posts, sorted
    can_write: bool


NOTHING = Expect(frozenset(), (), frozenset(), (), False)
STREET_READER = Expect(
    frozenset(SEES_STREET), (STREET,), frozenset({"cg", "gb"}), (GRID_A, GRID_B), False
)
GRID_READER = Expect(frozenset(SEES_GRID_A), (GRID_A,), frozenset({"cg"}), (GRID_A,), False)

# role → (region the role is assigned in, needs department, expectations)
MATRIX = {
    "admin": ("street", False, Expect(**{**STREET_READER.__dict__, "can_write": True})),
    "operator": ("street", False, STREET_READER),
    "handler": ("street", True, STREET_READER),
    "grid_leader": ("grid_a", False, GRID_READER),
    "grid_instructor": ("grid_a", False, GRID_READER),
    "grid_worker": ("grid_a", False, GRID_READER),
    "functional_worker": ("grid_a", True, GRID_READER),
    "supervisor": ("grid_a", False, GRID_READER),
    "leader": ("street", False, STREET_READER),
    "resident": ("unit_a", False, NOTHING),
    "superuser": (None, False, Expect(
        frozenset(SEES_ALL), (DISTRICT,), frozenset({"cg", "gb", "hc"}),
        (GRID_A, GRID_B, "32080300200100"), True,
    )),
    "no_role": (None, False, NOTHING),
}  # fmt: skip
ROLES = list(MATRIX)


@dataclass
class World:
    tree: object
    client: object
    expect: Expect
    posts: dict
    departments: dict


@pytest.fixture(params=ROLES)
def world(request, tree) -> World:
    role = request.param
    where, needs_dept, expect = MATRIX[role]
    region = {
        "street": tree.street,
        "grid_a": tree.grid_a,
        "unit_a": tree.units_a[0],
        None: None,
    }[where]
    gb = services.department_create(name="商圈办", code="gb", region=tree.grid_b)
    hc = services.department_create(name="淮城城管", code="hc", region=tree.other_street)
    assign = services.grid_post_assign
    posts = {
        GRID_A: assign(grid=tree.grid_a, role=PostRole.LEADER, user=UserFactory()),
        GRID_B: assign(grid=tree.grid_b, role=PostRole.FULLTIME, user=UserFactory()),
        "32080300200100": assign(grid=tree.other_grid, role=PostRole.LEADER, user=UserFactory()),
    }
    if role == "superuser":
        user = user_with_role("superuser")
    elif role == "no_role":
        user = user_with_role(None)
    else:
        assert role in Role.values
        user = user_with_role(role, region, department=tree.dept if needs_dept else None)
    departments = {"cg": tree.dept, "gb": gb, "hc": hc}
    return World(tree, api_client(user), expect, posts, departments)


def _items(client, url, **params) -> list[dict]:
    body = client.get(url, {"limit": 500, **params}).json()
    assert body["count"] == len(body["items"])
    return body["items"]


def _flatten(nodes: list[dict]) -> set[str]:
    out: set[str] = set()
    for n in nodes:
        out |= {n["code"]} | _flatten(n["children"])
    return out


def test_region_list(world):
    codes = {r["code"] for r in _items(world.client, f"{API}/regions")}
    assert codes == world.expect.regions


def test_region_tree(world):
    body = world.client.get(f"{API}/regions/tree").json()
    assert tuple(r["code"] for r in body["roots"]) == world.expect.roots
    assert _flatten(body["roots"]) == world.expect.regions
    assert body["count"] == len(world.expect.regions)


@pytest.mark.parametrize("code", ALL_CODES)
def test_region_detail_200_or_404(world, code):
    resp = world.client.get(f"{API}/regions/{code}")
    expected = 200 if code in world.expect.regions else 404
    assert resp.status_code == expected
    if expected == 404:
        assert resp.json()["code"] == "not_found"


@pytest.mark.parametrize("code", [DISTRICT, STREET, GRID_A, GRID_B, "32080300200100"])
def test_region_posts_200_or_404(world, code):
    resp = world.client.get(f"{API}/regions/{code}/posts")
    assert resp.status_code == (200 if code in world.expect.regions else 404)


def test_departments_list(world):
    codes = {d["code"] for d in _items(world.client, f"{API}/departments")}
    assert codes == world.expect.departments


@pytest.mark.parametrize("dept", ["cg", "gb", "hc"])
def test_department_detail_200_or_404(world, dept):
    resp = world.client.get(f"{API}/departments/{world.departments[dept].pk}")
    assert resp.status_code == (200 if dept in world.expect.departments else 404)


def test_posts_list(world):
    grids = tuple(sorted(p["grid_code"] for p in _items(world.client, f"{API}/posts")))
    assert grids == world.expect.post_grids


def test_locate_is_open_to_every_signed_in_user(world):
    body = world.client.get(f"{API}/locate", {"lat": 33.49, "lng": 119.19}).json()
    assert body["inside"] is True and body["unit"]["code"] == "32080300200101"


# --- writes: admin of the street and superuser only -----------------------------------------


def _write_status(expect: Expect, ok: int) -> int:
    return ok if expect.can_write else 403


def test_create_region(world):
    data = {"name": "估衣街3单元", "level": "unit", "code": "32080300100105",
            "parent_code": GRID_A}  # fmt: skip
    resp = world.client.post(f"{API}/regions", json.dumps(data), content_type="application/json")
    assert resp.status_code == _write_status(world.expect, 201)
    if resp.status_code == 403:
        assert resp.json()["code"] == "forbidden"


def test_set_boundary(world):
    data = json.dumps({"boundary": rect(119.10, 33.48, 119.125, 33.50)})
    url = f"{API}/regions/32080300100101/boundary"
    resp = world.client.put(url, data, content_type="application/json")
    assert resp.status_code == _write_status(world.expect, 200)


def test_create_post(world):
    data = {"grid_code": GRID_A, "role": "supervisor", "user_id": UserFactory().pk}
    resp = world.client.post(f"{API}/posts", json.dumps(data), content_type="application/json")
    assert resp.status_code == _write_status(world.expect, 201)


def test_end_post(world):
    resp = world.client.delete(f"{API}/posts/{world.posts[GRID_A].pk}")
    assert resp.status_code == _write_status(world.expect, 204)


def test_write_outside_admin_scope(world):
    """Out of the caller's scope: 403 without admin rights, 404 for the street admin (the
    object is invisible to them), allowed for the superuser."""
    resp = world.client.delete(f"{API}/posts/{world.posts['32080300200100'].pk}")
    if not world.expect.can_write:
        assert resp.status_code == 403
    elif world.expect.regions == SEES_ALL:
        assert resp.status_code == 204
    else:
        assert resp.status_code == 404


def test_anonymous_gets_401(tree):
    client = api_client(None)
    for url in ["/regions", "/regions/tree", f"/regions/{GRID_A}", "/departments", "/posts"]:
        resp = client.get(f"{API}{url}")
        assert resp.status_code == 401 and resp.json()["code"] == "unauthorized"
    resp = client.get(f"{API}/locate", {"lat": 33.49, "lng": 119.11})
    assert resp.status_code == 401
