"""A small generated city (300 compounds, 16 districts, 12 suppliers) planned once per session
in this process: the reference every other city test compares against."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from api.city.cache import MemoryCache
from api.city.day import CityDay, generated_city_day
from api.city.execute import CityPlan, PieceRunner, plan_city
from matcher.model import Params
from matcher.result import Allocation
from routing.model import Params as RouteParams
from routing.model import parent_id
from routing.result import Plan

MATCH = Params(time_limit_s=120, deterministic_time=0.2, seed=1)
"""Deterministic-time budget per piece; the wall clock is only a far safety net."""
ROUTE = RouteParams(time_limit_s=120, max_iterations=150, seed=1)
"""An iteration budget per piece: the same routes on any machine load."""


@dataclass(frozen=True)
class Reference:
    """The single-process plan and the cache its pieces were kept in."""

    city: CityPlan
    cache: MemoryCache

    def cache_copy(self) -> MemoryCache:
        """A fresh cache holding the reference's pieces."""
        copy = MemoryCache()
        copy.results.update(self.cache.results)
        return copy


@pytest.fixture(scope="session")
def city_day() -> CityDay:
    """300 compounds, 12 suppliers with 4 vehicles each, seed 3."""
    return generated_city_day(300, n_suppliers=12, seed=3)


@pytest.fixture(scope="session")
def reference(city_day: CityDay) -> Reference:
    """The day planned in this process, no Dask."""
    cache = MemoryCache()
    city = plan_city(city_day, MATCH, ROUTE, PieceRunner(cache=cache))
    return Reference(city, cache)


def served(allocation: Allocation) -> Counter[tuple[str, str]]:
    """Units allocated per compound × category."""
    units: Counter[tuple[str, str]] = Counter()
    for line in allocation.lines:
        units[line.compound_id, line.category_id] += line.quantity_units
    return units


def routed(plan: Plan) -> Counter[str]:
    """Units on routes per delivery (split pieces added up)."""
    units: Counter[str] = Counter()
    for route in plan.routes:
        for stop in route.stops:
            units[parent_id(stop.delivery_id)] += stop.quantity_units
    return units
