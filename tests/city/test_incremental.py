"""Incremental re-plan: after one change only the pieces whose inputs changed are solved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from api.city.cache import StoreCache
from api.city.day import CityDay
from api.city.decompose import Decomposer
from api.city.execute import PieceRun, PieceRunner, plan_city
from data.schemas import LockdownLevel, LockdownStatus
from data.store import Store
from tests.city.conftest import MATCH, ROUTE, Reference

APRIL_FIRST = dt.date(2022, 4, 1)


def _solved(runs: Sequence[PieceRun], kind: str, round_: int) -> set[str]:
    """Scopes of the pieces of ``kind`` and round solved (not reused) in a run."""
    return {r.scope for r in runs if r.status == "solved" and r.kind == kind and r.round == round_}


def test_same_input_reuses_every_piece(city_day: CityDay, reference: Reference) -> None:
    city = plan_city(city_day, MATCH, ROUTE, PieceRunner(cache=reference.cache_copy()))
    assert city.solved() == []
    assert len(city.runs) == len(reference.city.runs)
    assert city.allocation.lines == reference.city.allocation.lines
    assert city.plan.routes == reference.city.plan.routes


def test_lockdown_of_one_district_re_solves_only_its_pieces(
    city_day: CityDay, reference: Reference
) -> None:
    sealed = sorted(c.compound_id for c in city_day.compounds if c.district == "黄浦区")[:3]
    changed = city_day.with_lockdown(
        tuple(
            LockdownStatus(compound_id=c, level=LockdownLevel.sealed, valid_from=APRIL_FIRST)
            for c in sealed
        )
    )
    city = plan_city(changed, MATCH, ROUTE, PieceRunner(cache=reference.cache_copy()))
    assert _solved(city.runs, "match", 1) == {"黄浦区"}
    reused_first = {r.scope for r in city.runs if r.kind == "match" and r.round == 1} - {"黄浦区"}
    assert len(reused_first) == 15
    assert all(r.status == "reused" for r in city.runs if r.scope in reused_first and r.round == 1)
    # the sealed compounds keep their suppliers (all serve sealed compounds and hold passes):
    # the district is re-solved to the same answer, so no supplier's routes change
    assert sorted((r.kind, r.round, r.scope) for r in city.solved()) == [
        ("match", 1, "黄浦区"),
        ("match", 2, "黄浦区"),
    ]
    assert city.allocation.lines == reference.city.allocation.lines


def test_capacity_of_one_offer_re_solves_the_districts_whose_share_changed(
    city_day: CityDay, reference: Reference
) -> None:
    offer = next(o for o in city_day.offers if o.offer_id == "gs0001-vegetables")
    changed = city_day.with_offer_capacity(offer.offer_id, offer.capacity_units // 2)
    before = Decomposer(city_day).shares()[offer.offer_id]
    after = Decomposer(changed).shares()[offer.offer_id]
    moved = {d for d in before.keys() | after.keys() if before.get(d) != after.get(d)}
    assert sum(after.values()) == offer.capacity_units // 2
    city = plan_city(changed, MATCH, ROUTE, PieceRunner(cache=reference.cache_copy()))
    assert _solved(city.runs, "match", 1) == moved
    assert 0 < len(moved) < 16
    assert len(city.solved()) < len(city.runs)
    assert "gs0001" in _solved(city.runs, "route", 1)  # its deliveries changed
    used = sum(
        line.quantity_units for line in city.allocation.lines if line.offer_id == offer.offer_id
    )
    assert used <= offer.capacity_units // 2
    print(moved, sorted((r.kind, r.round, r.scope) for r in city.solved()))


def test_store_cache_keeps_pieces_across_runs(
    store: Store, city_day: CityDay, reference: Reference
) -> None:
    cache = StoreCache(store, city_day.delivery_date)
    some = sorted(reference.cache.results.values(), key=lambda r: r.key)[:3]
    for result in some:
        assert cache.get(result.key) is None
        cache.put(result)
        cache.put(result)  # a second put is a no-op
    for result in some:
        assert cache.get(result.key) == result
