"""locate(): point in unit grid, edges, the outside, bad input, and staying fresh.

The `tree` fixture has, from west to east, grid A (units 01 south, 02 north), grid B
(units 03 south, 04 north) of street 001 and a single unit of street 002:

    33.52 ┌──────┬──────┬─────────────┐
          │  02  │  04  │             │
    33.50 ├──────┼──────┤  002…0101   │
          │  01  │  03  │             │
    33.48 └──────┴──────┴─────────────┘
        119.10 119.125 119.15       119.20
"""

import dataclasses
import math
import sys
import time

import numpy as np
import pytest
from django.core.signals import request_started
from django.db import close_old_connections, connection, transaction

from civicgrid.core.testing.factories import rect
from civicgrid.grids import locator, services
from civicgrid.grids.locator import Location, ensure_fresh, index_info, locate
from civicgrid.grids.models import GeoIndexState, Region

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_index(settings):
    # Test databases roll back, so versions repeat between tests: never trust a prior index.
    settings.LOCATE_RECHECK_SECONDS = 3600  # only explicit checks and request_started count
    settings.REFCACHE_REQUEST_RECHECK_SECONDS = 0  # every request checks (the window: below)
    locator.locator_reset()
    yield
    locator.locator_reset()


def new_request() -> None:
    """Send request_started as Django's test client does (without closing the connection)."""
    request_started.disconnect(close_old_connections)
    try:
        request_started.send(sender=None, environ={})
    finally:
        request_started.connect(close_old_connections)


def code_at(lat: float, lng: float) -> str | None:
    loc = locate(lat, lng)
    return loc.code if loc else None


def test_inside_each_unit(tree):
    units = [*tree.units_a, *tree.units_b, tree.other_unit]
    points = [(33.49, 119.11), (33.51, 119.11), (33.49, 119.14), (33.51, 119.14), (33.50, 119.17)]
    for unit, (lat, lng) in zip(units, points, strict=True):
        loc = locate(lat, lng)
        assert loc == Location(unit_id=unit.pk, code=unit.code, name=unit.name, path=unit.path)


def test_location_carries_ancestors(tree):
    loc = locate(33.49, 119.11)
    assert loc.ancestor_codes() == [
        tree.district.code,
        tree.street.code,
        tree.community.code,
        tree.grid_a.code,
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        loc.code = "x"


@pytest.mark.parametrize(
    ("lat", "lng", "expected"),
    [
        (33.49, 119.125, "32080300100101"),  # edge between units 01 and 03 (two grids)
        (33.50, 119.11, "32080300100101"),  # edge between units 01 and 02
        (33.50, 119.125, "32080300100101"),  # corner shared by four units
        (33.51, 119.15, "32080300100104"),  # edge between two streets
        (33.52, 119.20, "32080300200101"),  # outer corner
    ],
)
def test_shared_edges_resolve_to_smallest_code(tree, lat, lng, expected):
    assert code_at(lat, lng) == expected


def test_a_warm_locate_makes_no_shapely_call(tree):
    """Shapely gives up the GIL on every call, and a loaded threaded server pays for each
    hand-over (grids/pointindex.py): once a unit has been hit, locating is pure Python."""
    assert code_at(33.49, 119.11) == "32080300100101"  # builds the index and the unit's shape
    calls = []

    def watch(frame, event, arg):
        if event == "c_call" and isinstance(arg, np.ufunc):
            calls.append(arg.__name__)
        elif event == "call" and "shapely" in frame.f_code.co_filename:
            calls.append(frame.f_code.co_name)

    sys.setprofile(watch)
    try:
        found = [code_at(33.49, 119.11), code_at(33.49, 119.111), code_at(33.47, 119.11)]
    finally:
        sys.setprofile(None)
    assert found == ["32080300100101", "32080300100101", None]
    assert calls == []


@pytest.mark.parametrize(
    ("lat", "lng"), [(33.47, 119.11), (33.53, 119.14), (33.50, 119.21), (0.0, 0.0), (-90, 180)]
)
def test_outside_managed_area_is_none(tree, lat, lng):
    assert locate(lat, lng) is None


@pytest.mark.parametrize(
    ("lat", "lng"),
    [
        (math.nan, 119.1),
        (33.5, math.nan),
        (math.inf, 119.1),
        (90.01, 119.1),
        (-91, 0),
        (0, 180.5),
        (0, -181),
    ],
)
def test_invalid_coordinates_raise(tree, lat, lng):
    with pytest.raises(ValueError, match="坐标无效"):
        locate(lat, lng)


def test_empty_database_answers_none(db):
    assert locate(33.5, 119.14) is None
    assert index_info()["units"] == 0


def test_boundary_change_here_is_seen_at_once(tree):
    assert code_at(33.51, 119.145) == "32080300100104"
    services.region_set_boundary(
        region=tree.units_b[1], boundary=rect(119.125, 33.50, 119.14, 33.52)
    )
    assert code_at(33.51, 119.145) is None
    assert index_info()["kind"] == "incremental"


def test_boundary_change_elsewhere_seen_at_next_request(tree, monkeypatch):
    assert code_at(33.51, 119.145) == "32080300100104"
    with monkeypatch.context() as m:  # another process: nothing tells this one
        m.setattr(locator, "check_now", lambda: None)
        services.region_set_boundary(
            region=tree.units_b[1], boundary=rect(119.125, 33.50, 119.14, 33.52)
        )
    assert code_at(33.51, 119.145) == "32080300100104"
    new_request()
    assert code_at(33.51, 119.145) is None
    assert code_at(33.51, 119.13) == "32080300100104"
    assert index_info()["kind"] == "incremental"


def test_long_running_process_rechecks_on_a_timer(tree, settings):
    settings.LOCATE_RECHECK_SECONDS = 0
    assert code_at(33.51, 119.145) == "32080300100104"
    services.region_set_boundary(
        region=tree.units_b[1], boundary=rect(119.125, 33.50, 119.14, 33.52)
    )
    assert code_at(33.51, 119.145) is None


def test_new_unit_is_found(tree):
    services.region_set_boundary(
        region=tree.units_b[1], boundary=rect(119.125, 33.50, 119.14, 33.52)
    )
    assert code_at(33.51, 119.145) is None
    unit = services.region_create(
        name="商圈5单元",
        level="unit",
        code="32080300100105",
        parent=tree.grid_b,
        boundary=rect(119.14, 33.50, 119.15, 33.52),
    )
    new_request()
    loc = locate(33.51, 119.145)
    assert loc is not None and loc.unit_id == unit.pk and loc.name == "商圈5单元"
    assert index_info()["units"] == 6


def test_deactivated_unit_not_found_and_reactivated_found(tree):
    unit = tree.units_a[0]
    assert code_at(33.49, 119.11) == unit.code
    services.region_update(region=unit, is_active=False)
    new_request()
    assert locate(33.49, 119.11) is None
    assert code_at(33.49, 119.125) == "32080300100103"  # the shared edge now has one owner
    services.region_update(region=unit, is_active=True)
    new_request()
    assert code_at(33.49, 119.11) == unit.code


def test_rename_reaches_the_index(tree):
    locate(33.49, 119.11)
    services.region_update(region=tree.units_a[0], name="估衣街东单元")
    new_request()
    assert locate(33.49, 119.11).name == "估衣街东单元"


def test_each_boundary_change_bumps_the_version_once(tree):
    before = GeoIndexState.objects.get(pk=1).version
    region = services.region_set_boundary(
        region=tree.units_b[1], boundary=rect(119.125, 33.50, 119.14, 33.52)
    )
    after = GeoIndexState.objects.get(pk=1).version
    assert after == before + 1 == region.geo_version


def test_incremental_index_matches_full_rebuild(tree):
    locate(33.5, 119.14)
    services.region_set_boundary(
        region=tree.units_b[1], boundary=rect(119.125, 33.50, 119.14, 33.52)
    )
    services.region_create(
        name="商圈5单元",
        level="unit",
        code="32080300100105",
        parent=tree.grid_b,
        boundary=rect(119.14, 33.50, 119.15, 33.52),
    )
    services.region_update(region=tree.units_a[1], is_active=False)
    ensure_fresh()
    assert index_info()["kind"] == "incremental"
    probe = [(33.481 + 0.0025 * i, 119.101 + 0.0033 * j) for i in range(16) for j in range(30)]
    incremental = [locate(lat, lng) for lat, lng in probe]
    locator.locator_reset()
    assert [locate(lat, lng) for lat, lng in probe] == incremental
    assert index_info()["kind"] == "full"


def test_version_going_backwards_forces_full_rebuild(tree):
    """A restored database can carry an older version than the one built from."""
    locate(33.49, 119.11)
    forged = dataclasses.replace(locator._INDEX.snap, version=10_000)
    locator._INDEX.snap = forged
    new_request()
    assert code_at(33.49, 119.11) == tree.units_a[0].code
    assert index_info()["kind"] == "full"
    assert index_info()["version"] == GeoIndexState.objects.get(pk=1).version


def test_unstamped_removal_falls_back_to_full_rebuild(tree):
    """A row deleted behind the services' back is caught by the incremental count check."""
    assert code_at(33.49, 119.11) == tree.units_a[0].code
    Region.objects.filter(pk=tree.units_a[0].pk).delete()
    services.region_set_boundary(
        region=tree.units_b[1], boundary=rect(119.125, 33.50, 119.14, 33.52)
    )
    new_request()
    assert locate(33.49, 119.11) is None
    assert index_info()["kind"] == "full"


def test_no_query_between_checks(tree, django_assert_num_queries):
    locate(33.49, 119.11)
    with django_assert_num_queries(0):
        for _ in range(10):
            locate(33.49, 119.11)
    new_request()
    with django_assert_num_queries(1):  # the version read, nothing else when unchanged
        locate(33.49, 119.11)
        locate(33.51, 119.11)


def test_requests_within_a_second_of_the_check_make_no_query(
    tree, settings, monkeypatch, django_assert_num_queries
):
    """REFCACHE_REQUEST_RECHECK_SECONDS: a request checks the version only when the last
    check is that old (core/refcache.py says why)."""
    from civicgrid.core import refcache

    settings.REFCACHE_REQUEST_RECHECK_SECONDS = 1.0
    now = [5000.0]
    monkeypatch.setattr(locator, "_monotonic", lambda: now[0])
    monkeypatch.setattr(refcache, "_monotonic", lambda: now[0])
    new_request()  # the first after the tree's regions were made here: it checks
    locate(33.49, 119.11)
    now[0] += 0.9
    new_request()
    with django_assert_num_queries(0):
        locate(33.49, 119.11)
    now[0] += 0.1
    new_request()
    with django_assert_num_queries(1):
        locate(33.49, 119.11)


def test_a_rolled_back_change_here_is_forgotten_at_the_next_request(tree, settings):
    settings.REFCACHE_REQUEST_RECHECK_SECONDS = 3600
    assert code_at(33.51, 119.145) == "32080300100104"
    with pytest.raises(RuntimeError), transaction.atomic():
        services.region_set_boundary(
            region=tree.units_b[1], boundary=rect(119.125, 33.50, 119.14, 33.52)
        )
        assert code_at(33.51, 119.145) is None  # built inside the transaction
        raise RuntimeError
    new_request()
    assert code_at(33.51, 119.145) == "32080300100104"


def test_version_comes_with_the_reference_counters(tree, django_assert_num_queries):
    """An API request reads the reference-data counters first (its token check): the geo
    version came with them, so its first locate costs no query of its own."""
    from civicgrid.core.refcache import refversion_of

    locate(33.49, 119.11)
    new_request()
    with django_assert_num_queries(1):
        refversion_of("accounts.auth")
        locate(33.49, 119.11)
    assert refversion_of(locator.GEO_VERSION) == GeoIndexState.objects.get(pk=1).version


def test_counters_read_before_the_check_fell_due_are_not_trusted(tree, settings):
    """Outside requests (a worker): when the locator's recheck time passes, counters read
    before that moment are read again, so a boundary redrawn by another process meanwhile
    is seen, though the counters' own recheck time is far off."""
    from civicgrid.core.refcache import refversion_of

    settings.REFCACHE_RECHECK_SECONDS = 3600
    assert code_at(33.49, 119.11) == tree.units_a[0].code
    refversion_of("accounts.auth")  # counters read now, before the change below
    with connection.cursor() as cursor:  # "another process": no local signal, no local drop
        cursor.execute("UPDATE grids_geoindexstate SET version = version + 1 WHERE id = 1")
    time.sleep(0.001)
    locator._INDEX.check_at = time.monotonic()  # the locator's recheck time has come
    locate(33.49, 119.11)
    assert index_info()["version"] == GeoIndexState.objects.get(pk=1).version
