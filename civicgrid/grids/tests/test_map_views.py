"""The grid map page, its GeoJSON feed and the region panel: login, contents, scope, queries."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from civicgrid.accounts import services as account_services
from civicgrid.accounts.choices import Role
from civicgrid.core.testing.factories import UserFactory
from civicgrid.grids import services as grid_services
from civicgrid.grids.choices import PostRole

GEOJSON = reverse("grids:regions_geojson")
HTMX = {"HTTP_HX_REQUEST": "true"}


def panel_url(code: str) -> str:
    return reverse("grids:region_panel", args=[code])


def user_with_role(role: str, region, department=None):
    user = UserFactory()
    account_services.role_assign(user=user, role=role, region=region, department=department)
    return user


@pytest.fixture
def operator(tree):
    return user_with_role(Role.OPERATOR, tree.street)


@pytest.fixture
def worker_a(tree):
    """The full-time grid worker of grid A, given the post (and so the role) by the service."""
    user = UserFactory(name="周网格", phone="13900001111")
    grid_services.grid_post_assign(grid=tree.grid_a, role=PostRole.FULLTIME, user=user)
    return user


def codes(response) -> set[str]:
    return {f["properties"]["code"] for f in response.json()["features"]}


@pytest.mark.parametrize(
    "url", [reverse("grids:map"), GEOJSON, reverse("grids:region_panel", args=["32080300100100"])]
)
def test_login_required(client, db, url) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_map_page_uses_our_own_leaflet_and_shows_the_legend(client, operator) -> None:
    client.force_login(operator)
    response = client.get(reverse("grids:map"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "/static/grids/map.js" in html
    for label in ("村居网格", "商圈网格", "楼宇网格", "基础网格单元"):
        assert label in html
    # No asset from another host. (Searching the page for "cdn" failed whenever the random
    # CSRF token happened to contain those three letters.)
    assets = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))]


def test_tile_url_reaches_the_page(client, operator, settings) -> None:
    settings.TILE_URL = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
    client.force_login(operator)
    html = client.get(reverse("grids:map")).content.decode()
    assert 'data-tile-url="https://tiles.example.gov.cn/{z}/{x}/{y}.png"' in html


def test_geojson_grids_for_the_street_operator(client, tree, operator) -> None:
    client.force_login(operator)
    response = client.get(GEOJSON, {"level": "grid"})
    assert response.status_code == 200
    data = response.json()
    assert data["type"] == "FeatureCollection"
    assert codes(response) == {tree.grid_a.code, tree.grid_b.code}
    feature = next(f for f in data["features"] if f["id"] == tree.grid_b.code)
    props = feature["properties"]
    assert props["name"] == "河下商圈网格"
    assert (props["level"], props["grid_type"], props["parent"]) == (
        "grid", "business", tree.community.code,
    )  # fmt: skip
    assert props["grid_type_label"] == "商圈网格"
    assert props["area_m2"] > 0
    assert feature["geometry"]["type"] == "Polygon"


def test_geojson_units_and_parent_filter(client, tree, operator) -> None:
    client.force_login(operator)
    all_units = codes(client.get(GEOJSON, {"level": "unit"}))
    assert all_units == {u.code for u in tree.units_a + tree.units_b}
    under_a = codes(client.get(GEOJSON, {"level": "unit", "parent": tree.grid_a.code}))
    assert under_a == {u.code for u in tree.units_a}


def test_grid_worker_sees_only_their_grid_and_its_units(client, tree, worker_a) -> None:
    client.force_login(worker_a)
    assert codes(client.get(GEOJSON, {"level": "grid"})) == {tree.grid_a.code}
    assert codes(client.get(GEOJSON, {"level": "unit"})) == {u.code for u in tree.units_a}
    assert client.get(GEOJSON, {"level": "unit", "parent": tree.grid_b.code}).status_code == 404
    assert client.get(GEOJSON, {"level": "unit", "parent": "99999999999999"}).status_code == 404


def test_resident_is_refused_the_map(client, tree) -> None:
    """The map is a staff tool: a resident gets 403 with the reason, not an empty map."""
    resident = user_with_role(Role.RESIDENT, tree.units_a[0])
    client.force_login(resident)
    assert client.get(GEOJSON, {"level": "unit"}).status_code == 403
    assert client.get(panel_url(tree.units_a[0].code), **HTMX).status_code == 403
    page = client.get(reverse("grids:map"))
    assert page.status_code == 403
    assert "没有辖区数据的查看权限" in page.content.decode()


def test_unknown_level_is_a_400(client, operator) -> None:
    client.force_login(operator)
    response = client.get(GEOJSON, {"level": "planet"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_level"


def test_panel_shows_code_units_and_staff_with_phones(client, tree, operator, worker_a) -> None:
    police = UserFactory(name="韩警官", phone="13800002222")
    grid_services.grid_post_assign(grid=tree.grid_a, role=PostRole.FUNCTIONAL, user=police,
                                   department=tree.dept)  # fmt: skip
    client.force_login(operator)
    response = client.get(panel_url(tree.grid_a.code), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert tree.grid_a.code in html and tree.grid_a.name in html
    assert "村居网格" in html and tree.community.name in html
    for unit in tree.units_a:
        assert unit.code in html
    assert tree.units_b[0].code not in html
    assert "专职网格员" in html and "周网格" in html and 'href="tel:13900001111"' in html
    assert "职能网格员" in html and "韩警官" in html and "城管局" in html and "13800002222" in html
    assert html.index("专职网格员") < html.index("职能网格员")  # 1+1+1 before N


def test_unit_panel_shows_its_grid_and_the_grid_staff(client, tree, worker_a) -> None:
    client.force_login(worker_a)
    html = client.get(panel_url(tree.units_a[0].code), **HTMX).content.decode()
    assert tree.units_a[0].code in html and "基础网格单元" in html
    assert tree.grid_a.name in html and "周网格" in html


def test_out_of_scope_panel_is_a_404(client, tree, worker_a) -> None:
    client.force_login(worker_a)
    assert client.get(panel_url(tree.grid_a.code), **HTMX).status_code == 200
    for region in (tree.grid_b, tree.units_b[0], tree.other_grid, tree.street):
        assert client.get(panel_url(region.code), **HTMX).status_code == 404
    assert client.get(panel_url("00000000000000"), **HTMX).status_code == 404


def test_plain_request_for_a_panel_opens_the_map_on_it(client, tree, operator) -> None:
    client.force_login(operator)
    response = client.get(panel_url(tree.grid_a.code))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('grids:map')}?region={tree.grid_a.code}"


@pytest.mark.parametrize("level", ["grid", "unit"])
def test_geojson_queries_do_not_grow_with_regions(
    client, db, level, django_assert_max_num_queries
) -> None:
    call_command("seed_demo", verbosity=0)
    from civicgrid.accounts.models import User

    client.force_login(User.objects.get(username="operator"))
    # session, user, role assignments, regions; then the sliding-expiry session save
    # (SESSION_SAVE_EVERY_REQUEST) in a savepoint. The same 7 for 13 grids or 99 units.
    with django_assert_max_num_queries(7):
        response = client.get(GEOJSON, {"level": level})
    assert len(response.json()["features"]) == {"grid": 13, "unit": 99}[level]
