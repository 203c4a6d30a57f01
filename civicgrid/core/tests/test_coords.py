"""WGS84 ↔ GCJ-02 ↔ BD-09: published reference values and round trips both ways."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicgrid.core import coords

# Reference outputs of the widely used coordTransform implementation for (128.543, 37.065).
REF_IN = (128.543, 37.065)
REF_WGS_TO_GCJ = (128.54820547949757, 37.065651049489816)
REF_GCJ_TO_BD = (128.54944656269413, 37.07113427883019)
REF_WGS_TO_BD = (128.55468192918485, 37.07168344938498)
# Its inverses are one-step approximations (metre-level error); ours iterate to the exact inverse.
REF_GCJ_TO_WGS_APPROX = (128.53779452050244, 37.06434895051018)
REF_BD_TO_GCJ_APPROX = (128.5365893261212, 37.058754503281534)

# Mainland China, away from the edge of the GCJ-02 box so that shifted points stay inside.
china_lng = st.floats(min_value=74.0, max_value=134.5)
china_lat = st.floats(min_value=4.5, max_value=53.0)
EPS = 1e-6  # degrees, about 0.1 m


def close(a: tuple[float, float], b: tuple[float, float], tol: float) -> bool:
    return abs(a[0] - b[0]) <= tol and abs(a[1] - b[1]) <= tol


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (coords.wgs84_to_gcj02, REF_WGS_TO_GCJ),
        (coords.gcj02_to_bd09, REF_GCJ_TO_BD),
        (coords.wgs84_to_bd09, REF_WGS_TO_BD),
    ],
)
def test_forward_matches_published_reference(fn, expected):
    assert close(fn(*REF_IN), expected, 1e-12)


@pytest.mark.parametrize(
    ("fn", "approx", "tol"),
    [
        (coords.gcj02_to_wgs84, REF_GCJ_TO_WGS_APPROX, 3e-5),
        (coords.bd09_to_gcj02, REF_BD_TO_GCJ_APPROX, 5e-6),
    ],
)
def test_inverse_is_near_published_approximation_but_exact(fn, approx, tol):
    result = fn(*REF_IN)
    assert close(result, approx, tol)
    forward = coords.wgs84_to_gcj02 if fn is coords.gcj02_to_wgs84 else coords.gcj02_to_bd09
    assert close(forward(*result), REF_IN, 1e-9)


def test_hexia_shift_is_a_few_hundred_metres():
    """Sanity check at the demo's location: GCJ-02 moves points by 100–700 m in Jiangsu."""
    lng, lat = 119.14, 33.50
    glng, glat = coords.wgs84_to_gcj02(lng, lat)
    metres = math.hypot(
        (glng - lng) * 111_320 * math.cos(math.radians(lat)), (glat - lat) * 110_574
    )
    assert 100 < metres < 700


@pytest.mark.parametrize("point", [(0.0, 0.0), (-0.1276, 51.5072), (139.69, 35.69), (151.2, -33.9)])
def test_outside_china_gcj02_is_wgs84(point):
    assert coords.out_of_china(*point)
    assert coords.wgs84_to_gcj02(*point) == point
    assert coords.gcj02_to_wgs84(*point) == point


@settings(deadline=None, max_examples=300)
@given(lng=china_lng, lat=china_lat)
def test_wgs84_gcj02_round_trip(lng, lat):
    assert close(coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lng, lat)), (lng, lat), EPS)


@settings(deadline=None, max_examples=300)
@given(lng=china_lng, lat=china_lat)
def test_gcj02_wgs84_round_trip(lng, lat):
    assert close(coords.wgs84_to_gcj02(*coords.gcj02_to_wgs84(lng, lat)), (lng, lat), EPS)


@settings(deadline=None, max_examples=300)
@given(lng=china_lng, lat=china_lat)
def test_gcj02_bd09_round_trips(lng, lat):
    assert close(coords.bd09_to_gcj02(*coords.gcj02_to_bd09(lng, lat)), (lng, lat), EPS)
    assert close(coords.gcj02_to_bd09(*coords.bd09_to_gcj02(lng, lat)), (lng, lat), EPS)


@settings(deadline=None, max_examples=300)
@given(lng=china_lng, lat=china_lat)
def test_wgs84_bd09_round_trips(lng, lat):
    assert close(coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lng, lat)), (lng, lat), EPS)
    assert close(coords.wgs84_to_bd09(*coords.bd09_to_wgs84(lng, lat)), (lng, lat), EPS)


@settings(deadline=None)
@given(
    lng=st.floats(min_value=-180, max_value=180),
    lat=st.floats(min_value=-90, max_value=90),
)
def test_outside_china_identity_everywhere(lng, lat):
    if coords.out_of_china(lng, lat):
        assert coords.wgs84_to_gcj02(lng, lat) == (lng, lat)
        assert coords.gcj02_to_wgs84(lng, lat) == (lng, lat)


def test_convert_dispatch_and_unknown_system():
    assert coords.convert(*REF_IN, src="wgs84", dst="gcj02") == coords.wgs84_to_gcj02(*REF_IN)
    assert coords.convert(*REF_IN, src="bd09", dst="bd09") == REF_IN
    with pytest.raises(ValueError, match="未知坐标系"):
        coords.convert(*REF_IN, src="wgs84", dst="utm")
