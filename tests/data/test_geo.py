"""Datum conversion, distances in metres and the city outline."""

from __future__ import annotations

import numpy as np
import pytest

from data.geo import (
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    haversine_m,
    haversine_matrix_m,
    shanghai,
    to_wgs84,
    wgs84_to_gcj02,
)
from data.schemas import Datum

# One compound from the shared data, given in all three datums.
WGS84 = (121.363281, 31.261643)
GCJ02 = (121.3679, 31.259791)
BD09 = (121.374476, 31.265497)


def test_gcj02_and_bd09_convert_to_wgs84_within_a_metre() -> None:
    for datum, point in ((Datum.gcj02, GCJ02), (Datum.bd09, BD09), (Datum.wgs84, WGS84)):
        lon, lat = to_wgs84(*point, datum)
        assert haversine_m(lon, lat, *WGS84) < 1.0, datum


def test_round_trips_are_sub_millimetre() -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(*WGS84))
    assert haversine_m(*back, *WGS84) < 1e-3
    back_bd = bd09_to_gcj02(*gcj02_to_bd09(*GCJ02))
    assert haversine_m(*back_bd, *GCJ02) < 0.1


def test_gcj02_offset_in_shanghai_is_about_500_m() -> None:
    assert 450 < haversine_m(*WGS84, *GCJ02) < 520


def test_haversine_known_distance() -> None:
    # People's Square to the Oriental Pearl Tower: about 2.6 km.
    assert haversine_m(121.4692, 31.2317, 121.4956, 31.2397) == pytest.approx(2650, rel=0.03)
    matrix = haversine_matrix_m(
        np.array([121.4692, 121.4956]),
        np.array([31.2317, 31.2397]),
        np.array([121.4692, 121.4956]),
        np.array([31.2317, 31.2397]),
    )
    assert matrix.shape == (2, 2)
    assert matrix[0, 0] == 0.0
    assert matrix[0, 1] == pytest.approx(haversine_m(121.4692, 31.2317, 121.4956, 31.2397))


def test_city_outline() -> None:
    city = shanghai()
    assert city.contains(121.4737, 31.2304)  # People's Square
    assert city.contains(121.80, 31.15)  # Pudong, near the airport
    assert not city.contains(120.60, 31.30)  # Suzhou
    assert not city.contains(121.0, 31.8)  # inside the bounding box, across the river
    assert "Shanghai" in city.describe()
