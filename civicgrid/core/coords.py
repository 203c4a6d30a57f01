"""Coordinate conversion between WGS84, GCJ-02 and BD-09 (DESIGN.md §3, "Coordinates").

We store WGS84/CGCS2000. Phones report WGS84, Tianditu tiles are CGCS2000, but AMap and
Tencent tiles are drawn in GCJ-02 ("Mars coordinates") and Baidu in BD-09, so points must be
shifted before they are shown on (or read back from) those maps. Every function takes and
returns `(lng, lat)` in degrees, longitude first like GeoJSON.

The forward formulas are the widely published ones (e.g. coordTransform). GCJ-02 has no
closed-form inverse, so `gcj02_to_wgs84` inverts the forward shift by fixed-point iteration
until the round trip is within ~1e-9 degrees; the common one-step inverse is only good to a
few metres. BD-09 is inverted the same way. Outside China GCJ-02 is defined as WGS84.
"""

import math

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 obfuscation.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_TOLERANCE = 1e-10
_MAX_ITERATIONS = 30

Coord = tuple[float, float]


def out_of_china(lng: float, lat: float) -> bool:
    """The rough bounding box inside which GCJ-02 differs from WGS84."""
    return not (73.66 < lng < 135.05 and 3.86 < lat < 53.55)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(lng: float, lat: float) -> Coord:
    """The (dlng, dlat) that GCJ-02 adds to a WGS84 point inside China."""
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlng, dlat


def _invert(forward, lng: float, lat: float, guess: Coord) -> Coord:
    """Solve forward(x) == (lng, lat) by fixed-point iteration from `guess`.

    Both shifts are small and smooth (their Jacobian is close to the identity), so
    x ← x + (target − forward(x)) converges in a handful of steps.
    """
    x, y = guess
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = lng - fx, lat - fy
        x, y = x + dx, y + dy
        if abs(dx) < _TOLERANCE and abs(dy) < _TOLERANCE:
            break
    return x, y


def wgs84_to_gcj02(lng: float, lat: float) -> Coord:
    if out_of_china(lng, lat):
        return lng, lat
    dlng, dlat = _gcj_offset(lng, lat)
    return lng + dlng, lat + dlat


def gcj02_to_wgs84(lng: float, lat: float) -> Coord:
    """Iterative inverse of `wgs84_to_gcj02` (round trip error well under 1e-6 degrees)."""
    if out_of_china(lng, lat):
        return lng, lat
    dlng, dlat = _gcj_offset(lng, lat)
    return _invert(wgs84_to_gcj02, lng, lat, (lng - dlng, lat - dlat))


def gcj02_to_bd09(lng: float, lat: float) -> Coord:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lng: float, lat: float) -> Coord:
    """Baidu's published one-step inverse, used as the starting guess."""
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def bd09_to_gcj02(lng: float, lat: float) -> Coord:
    """Iterative inverse of `gcj02_to_bd09`, refining the published approximation."""
    return _invert(gcj02_to_bd09, lng, lat, _bd09_to_gcj02_approx(lng, lat))


def wgs84_to_bd09(lng: float, lat: float) -> Coord:
    return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))


def bd09_to_wgs84(lng: float, lat: float) -> Coord:
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


_CONVERTERS = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}
SYSTEMS = ("wgs84", "gcj02", "bd09")


def convert(lng: float, lat: float, *, src: str, dst: str) -> Coord:
    """Convert between any two of SYSTEMS; for API parameters such as `?crs=gcj02`."""
    if src not in SYSTEMS or dst not in SYSTEMS:
        raise ValueError(f"未知坐标系:{src} → {dst}(可选 {', '.join(SYSTEMS)})")
    if src == dst:
        return lng, lat
    return _CONVERTERS[(src, dst)](lng, lat)
