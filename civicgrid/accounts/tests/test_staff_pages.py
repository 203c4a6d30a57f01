"""Staff tools (grid map, register, imports) are refused to residents with a reason, and
the navigation bar only offers them to roles that see region-wide data."""

import pytest
from django.urls import URLPattern, get_resolver, reverse

from civicgrid.accounts.choices import Role
from civicgrid.core.testing.factories import user_with_role

pytestmark = pytest.mark.django_db


def _staff_urls() -> list[str]:
    """Every URL of the grids and registry page modules, with 1 for each argument: the
    decorator answers before the view looks anything up."""
    urls = []
    for namespace in ("grids", "registry"):
        resolver = get_resolver().namespace_dict[namespace][1]
        for pattern in resolver.url_patterns:
            assert isinstance(pattern, URLPattern)
            kwargs = {name: "1" for name in pattern.pattern.regex.groupindex}
            urls.append(reverse(f"{namespace}:{pattern.name}", kwargs=kwargs))
    return urls


STAFF_URLS = _staff_urls()


@pytest.mark.parametrize("url", STAFF_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_resident_gets_403_with_the_reason(client, tree, url, method) -> None:
    client.force_login(user_with_role(Role.RESIDENT, tree.units_a[0]))
    response = getattr(client, method)(url)
    assert response.status_code == 403
    assert "没有辖区数据的查看权限" in response.content.decode()


@pytest.mark.parametrize("url", STAFF_URLS)
def test_anonymous_goes_to_login(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_grid_worker_still_opens_the_register_and_map(client, tree) -> None:
    client.force_login(user_with_role(Role.GRID_WORKER, tree.grid_a))
    assert client.get(reverse("registry:people")).status_code == 200
    assert client.get(reverse("grids:map")).status_code == 200


def test_navigation_offers_staff_tools_only_to_staff(client, tree) -> None:
    map_url, register_url = reverse("grids:map"), reverse("registry:people")
    client.force_login(user_with_role(Role.RESIDENT, tree.units_a[0]))
    page = client.get(reverse("cases:workbench"), follow=True).content.decode()
    assert map_url not in page and register_url not in page
    client.force_login(user_with_role(Role.GRID_WORKER, tree.grid_a))
    page = client.get(reverse("cases:workbench"), follow=True).content.decode()
    assert map_url in page and register_url in page


def test_unknown_page_is_a_chinese_404(client, tree) -> None:
    client.force_login(user_with_role(Role.RESIDENT, tree.units_a[0]))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_refusal_speaks_english_when_asked(client, tree, settings) -> None:
    client.force_login(user_with_role(Role.RESIDENT, tree.units_a[0]))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("registry:people")).content.decode()
    assert "Access denied" in page and "may not view data of the area" in page
