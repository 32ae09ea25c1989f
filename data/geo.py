"""Coordinates: datum conversion (GCJ-02, BD-09 → WGS84), distances on the sphere, city bounds.

Distances are computed in metres on the sphere (haversine), never in degrees. The GCJ-02
and BD-09 formulas are the standard public ones; the GCJ-02 inverse is iterated to
sub-millimetre round-trip error.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
from shapely import contains_xy, prepare
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from data.schemas import Datum

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""

FloatArray = npt.NDArray[np.float64]

_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _gcj_delta(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    d_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _GCJ_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_GCJ_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 → GCJ-02 (the datum of Amap and Tencent maps)."""
    d_lon, d_lat = _gcj_delta(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → WGS84 by fixed-point iteration of the forward transform (< 1 mm error)."""
    w_lon, w_lat = lon, lat
    for _ in range(30):
        g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = g_lon - lon, g_lat - lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if abs(e_lon) < 1e-10 and abs(e_lat) < 1e-10:
            break
    return w_lon, w_lat


_BD_X_PI = math.pi * 3000.0 / 180.0


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 (Baidu) → GCJ-02."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _BD_X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _BD_X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → BD-09 (Baidu)."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _BD_X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _BD_X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def to_wgs84(lon: float, lat: float, datum: Datum) -> tuple[float, float]:
    """Convert a coordinate given in ``datum`` to WGS84."""
    if datum is Datum.wgs84:
        return lon, lat
    if datum is Datum.gcj02:
        return gcj02_to_wgs84(lon, lat)
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    d_lat, d_lon = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(d_lat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(d_lon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def haversine_matrix_m(
    from_lon: FloatArray, from_lat: FloatArray, to_lon: FloatArray, to_lat: FloatArray
) -> FloatArray:
    """Great-circle distances in metres, shape (len(from), len(to)), vectorised."""
    p1 = np.radians(np.asarray(from_lat, dtype=np.float64))[:, None]
    p2 = np.radians(np.asarray(to_lat, dtype=np.float64))[None, :]
    l1 = np.radians(np.asarray(from_lon, dtype=np.float64))[:, None]
    l2 = np.radians(np.asarray(to_lon, dtype=np.float64))[None, :]
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    result: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result


@dataclass(frozen=True)
class City:
    """The configured city: coordinates outside its outline (plus a margin) are rejected."""

    name: str
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    outline: BaseGeometry | None = field(default=None, compare=False, repr=False)

    def contains(self, lon: float, lat: float) -> bool:
        """Whether a WGS84 point lies in the city (bounding box, then outline if known)."""
        if not (self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat):
            return False
        return self.outline is None or bool(contains_xy(self.outline, lon, lat))

    def describe(self) -> str:
        """Human description of the accepted area, for error messages."""
        return (
            f"{self.name} (lon {self.min_lon:.2f}..{self.max_lon:.2f}, "
            f"lat {self.min_lat:.2f}..{self.max_lat:.2f})"
        )


OUTLINE_MARGIN_DEG = 0.01
"""About 1 km of slack around the city outline, for points on the boundary or in the river."""


def city_from_geojson(name: str, geojson: dict[str, Any]) -> City:
    """A City from a GeoJSON geometry, Feature or FeatureCollection (WGS84)."""
    if geojson.get("type") == "FeatureCollection":
        from shapely.ops import unary_union

        geometry = unary_union([shape(f["geometry"]) for f in geojson["features"]])
    elif geojson.get("type") == "Feature":
        geometry = shape(geojson["geometry"])
    else:
        geometry = shape(geojson)
    outline = geometry.buffer(OUTLINE_MARGIN_DEG)
    prepare(outline)
    min_lon, min_lat, max_lon, max_lat = outline.bounds
    return City(name, min_lon, min_lat, max_lon, max_lat, outline)


@cache
def shanghai() -> City:
    """The default city: Shanghai, from the outline shipped with the package."""
    text = resources.files("data").joinpath("cities/shanghai.geojson").read_text("utf-8")
    return city_from_geojson("Shanghai 上海", json.loads(text))
