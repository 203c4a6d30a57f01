"""The Hexia demo generator: the article's figures, idempotence and exact tiling."""

import pytest
import shapely
from django.core.management import call_command

from civicgrid.accounts.models import RoleAssignment, User
from civicgrid.grids import demo, geometry
from civicgrid.grids.choices import GridType, Level, PostRole
from civicgrid.grids.codes import validate_code
from civicgrid.grids.models import Department, GridPost, Region

# Tolerance for "tiles exactly": float noise of the unions, far below one square metre.
TILE_TOLERANCE_M2 = 1.0


@pytest.fixture
def hexia(db) -> None:
    call_command("seed_demo", verbosity=0)


def _snapshot() -> dict:
    return {
        "regions": list(Region.objects.order_by("code").values_list("code", "geo_version")),
        "departments": Department.objects.count(),
        "users": sorted(User.objects.values_list("username", "name", "phone")),
        "posts": GridPost.objects.count(),
        "assignments": RoleAssignment.objects.count(),
    }


def test_plan_is_deterministic_per_seed() -> None:
    a, b, c = demo.build_plan(2019), demo.build_plan(2019), demo.build_plan(7)
    assert [r.boundary for r in a.regions] == [r.boundary for r in b.regions]
    assert [p.phone for p in a.people] == [p.phone for p in b.people]
    assert [r.boundary for r in a.regions] != [r.boundary for r in c.regions]


def test_hexia_has_the_articles_figures(hexia) -> None:
    assert Region.objects.filter(level=Level.STREET).count() == 1
    street = Region.objects.get(level=Level.STREET)
    assert (street.code, street.name) == ("320803001", "河下街道")
    communities = Region.objects.filter(level=Level.COMMUNITY)
    assert communities.count() == 9
    kinds = sorted(int(c.code[9:]) >= 200 for c in communities)
    assert kinds.count(True) == 3  # 村委会
    grids = Region.objects.filter(level=Level.GRID)
    assert grids.count() == 13
    assert {t: grids.filter(grid_type=t).count() for t in GridType.values} == {
        GridType.RESIDENTIAL: 9, GridType.BUSINESS: 2, GridType.BUILDING: 2,
    }  # fmt: skip
    assert Region.objects.filter(level=Level.UNIT).count() == 99
    assert Department.objects.count() >= 10


def test_every_grid_has_its_one_plus_one_plus_one_plus_n(hexia) -> None:
    for grid in Region.objects.filter(level=Level.GRID):
        posts = GridPost.objects.active().filter(grid=grid)
        for role in (PostRole.LEADER, PostRole.INSTRUCTOR, PostRole.FULLTIME):
            assert posts.filter(role=role).count() == 1, (grid.code, role)
        functional = posts.filter(role=PostRole.FUNCTIONAL)
        assert 2 <= functional.count() <= 3, grid.code
        assert all(p.department_id for p in functional)
        assert 1 <= posts.filter(role=PostRole.SUPERVISOR).count() <= 2
        for post in posts.select_related("user"):
            assert post.user.name and post.user.phone.isdigit() and len(post.user.phone) == 11


def test_demo_accounts_cover_every_role(hexia) -> None:
    from civicgrid.accounts.choices import Role
    from civicgrid.accounts.management.commands.demo_accounts import (
        DEMO_PASSWORD,
        DEMO_USERNAMES,
    )

    roles = set(RoleAssignment.objects.filter(user__username__in=DEMO_USERNAMES)
                .values_list("role", flat=True))  # fmt: skip
    assert roles == set(Role.values)
    for username in DEMO_USERNAMES:
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD)
    assert User.objects.get(username="admin").is_superuser
    handler = RoleAssignment.objects.get(user__username="handler_cg")
    assert (handler.region.level, handler.department.code) == (Level.STREET, "chengguan")
    resident = RoleAssignment.objects.get(user__username="resident")
    assert resident.region.level == Level.UNIT
    # Staff who are not demo logins cannot sign in with a password at all.
    assert not User.objects.get(username="g02_leader1").has_usable_password()


def test_second_run_changes_nothing(hexia) -> None:
    before = _snapshot()
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", "--seed", "99", verbosity=0)
    assert _snapshot() == before


def test_if_empty_leaves_an_existing_street_alone(tree) -> None:
    before = Region.objects.count()
    call_command("seed_demo", "--if-empty", verbosity=0)
    assert Region.objects.count() == before
    assert not User.objects.filter(username="operator").exists()


def test_children_tile_their_parent_exactly(hexia) -> None:
    for parent in Region.objects.filter(level__in=[Level.STREET, Level.COMMUNITY, Level.GRID]):
        children = [c.geometry for c in parent.children.all()]
        union = shapely.union_all(children)
        gap = geometry.area_m2(parent.geometry.difference(union))
        spill = geometry.area_m2(union.difference(parent.geometry))
        overlap = sum(geometry.area_m2(c) for c in children) - geometry.area_m2(union)
        assert gap < TILE_TOLERANCE_M2, (parent.code, gap)
        assert spill < TILE_TOLERANCE_M2, (parent.code, spill)
        assert overlap < TILE_TOLERANCE_M2, (parent.code, overlap)


def test_street_is_about_three_by_two_and_a_half_km_around_hexia(hexia) -> None:
    street = Region.objects.get(level=Level.STREET)
    assert 33.49 < street.centroid_lat < 33.51 and 119.13 < street.centroid_lng < 119.15
    assert 6.0e6 < street.area_m2 < 9.0e6


def test_unit_codes_are_valid_and_read_left_to_right_top_to_bottom(hexia) -> None:
    units = Region.objects.filter(level=Level.UNIT).select_related("parent")
    for unit in units:
        validate_code(code=unit.code, level=Level.UNIT, parent_code=unit.parent.code)
        assert len(unit.code) == 14 and 1 <= int(unit.code[12:]) <= 89
        assert unit.code[:12] == unit.parent.code[:12]
    first, second = (Region.objects.get(code=c) for c in ("32080300100101", "32080300100102"))
    assert first.centroid_lng < second.centroid_lng  # 01 is west of 02 on the top row
    fifth_row_two = Region.objects.get(code="32080300100106")
    assert fifth_row_two.centroid_lat < first.centroid_lat  # 06 starts the second row
    for grid in Region.objects.filter(level=Level.GRID):
        validate_code(code=grid.code, level=Level.GRID, parent_code=grid.parent.code)
        assert grid.code[12:] == "00" or "90" <= grid.code[12:] <= "99"


def test_demo_accounts_command_prints_the_table(hexia, capsys) -> None:
    call_command("demo_accounts")
    out = capsys.readouterr().out
    for text in ("operator", "handler_cg", "河下城管中队", "hexia12345", "指挥中心操作员"):
        assert text in out
