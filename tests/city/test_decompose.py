"""Capacity split and redistribution: integer, conserving, never above a supplier's capacity."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.city import decompose
from api.city.day import CityDay, generated_city_day
from api.city.decompose import (
    Decomposer,
    MatchPiece,
    capacity_overruns,
    delivery_id,
    piece_key,
    split_capacity,
    zones_of,
)
from api.city.execute import compare_joint
from data.schemas import Compound
from matcher.model import Params
from tests.city.conftest import MATCH, Reference


def test_split_capacity_examples() -> None:
    assert split_capacity(10, {"a": 5, "b": 5, "c": 5}) == {"a": 4, "b": 3, "c": 3}
    assert split_capacity(20, {"a": 5, "b": 7}) == {"a": 5, "b": 7}
    assert split_capacity(7, {"a": 1, "b": 100}) == {"a": 0, "b": 7}
    assert split_capacity(0, {"a": 3}) == {"a": 0}
    assert split_capacity(5, {}) == {}
    with pytest.raises(ValueError, match="must be >= 0"):
        split_capacity(-1, {"a": 1})


@given(
    st.integers(min_value=0, max_value=10_000),
    st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 5_000), max_size=12),
)
def test_split_capacity_is_integer_bounded_and_conserving(
    capacity: int, weights: dict[str, int]
) -> None:
    shares = split_capacity(capacity, weights)
    assert set(shares) == set(weights)
    assert all(isinstance(s, int) and 0 <= s <= weights[k] for k, s in shares.items())
    assert sum(shares.values()) == min(capacity, sum(weights.values()))


def test_first_round_shares_respect_capacity_and_eligible_demand(city_day: CityDay) -> None:
    decomposer = Decomposer(city_day)
    shares = decomposer.shares()
    capacity = {o.offer_id: o.capacity_units for o in city_day.offers}
    for offer_id, by_district in shares.items():
        assert sum(by_district.values()) <= capacity[offer_id]
        eligible = decomposer.layout.eligible[offer_id]
        assert all(0 < units <= eligible[d] for d, units in by_district.items())
    # an offer short of its eligible demand hands out all of it
    short = [o for o, e in decomposer.layout.eligible.items() if sum(e.values()) > capacity[o]]
    assert short
    assert all(sum(shares[o].values()) == capacity[o] for o in short)
    # every round-1 piece carries exactly its district's shares as offer capacities
    for piece in decomposer.first_round(MATCH):
        offered = {o.offer_id: o.capacity_units for o in piece.problem.offers}
        assert offered == {o: s[piece.scope] for o, s in shares.items() if piece.scope in s}
    assert len(decomposer.layout.districts) == 16


def test_large_districts_are_cut_into_zones_of_whole_streets() -> None:
    def compound(n: int, district: str, street: str) -> Compound:
        return Compound(compound_id=f"c{n:03d}", name=f"c{n}", district=district,
                        street=street, lon=121.5, lat=31.2, households=100)  # fmt: skip

    small = [compound(n, "黄浦区", "外滩街道") for n in range(3)]
    big = (
        [compound(10 + n, "浦东新区", "花木街道") for n in range(3)]
        + [compound(20 + n, "浦东新区", "陆家嘴街道") for n in range(2)]
        + [compound(30 + n, "浦东新区", "潍坊新村街道") for n in range(5)]
    )
    zones = zones_of([*small, *big], limit=4)
    assert zones[:3] == ["黄浦区"] * 3  # at most the limit: the district is its zone
    by_zone = Counter(zones[3:])
    assert all(n <= 4 for n in by_zone.values())
    # streets in code-point order 潍坊新村 (5, over the limit: cut 4 + 1), 花木 (3), 陆家嘴 (2),
    # packed whole into runs of at most 4
    assert zones[8:] == ["浦东新区·1"] * 4 + ["浦东新区·2"]
    assert zones[3:6] == ["浦东新区·2"] * 3
    assert zones[6:8] == ["浦东新区·3"] * 2


def test_zones_of_a_large_district_keep_capacity_and_serve_as_pieces(
    city_day: CityDay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decompose, "MAX_ZONE_COMPOUNDS", 10)
    decomposer = Decomposer(city_day)
    layout = decomposer.layout
    assert len(layout.zones) > len(layout.districts)
    assert any("·" in z for z in layout.zones)
    capacity = {o.offer_id: o.capacity_units for o in city_day.offers}
    for offer_id, by_zone in decomposer.shares().items():
        assert sum(by_zone.values()) <= capacity[offer_id]
    pieces = decomposer.first_round(MATCH)
    assert {p.scope for p in pieces} == set(layout.zones)
    assert all(len(p.problem.compounds) <= 10 for p in pieces)
    covered = Counter(c.compound_id for p in pieces for c in p.problem.compounds)
    assert set(covered) == set(layout.compound_ids) and set(covered.values()) == {1}


def test_second_round_grants_only_unused_capacity(city_day: CityDay, reference: Reference) -> None:
    decomposer = Decomposer(city_day)
    first = {}
    for piece in decomposer.first_round(MATCH):
        result = reference.cache.get(piece_key(piece))
        assert result is not None and result.allocation is not None
        first[piece.scope] = result.allocation
    used: Counter[str] = Counter()
    for allocation in first.values():
        for line in allocation.lines:
            used[line.offer_id] += line.quantity_units
    pieces, grants = decomposer.second_round(MATCH, first)
    assert grants == reference.city.grants
    assert grants
    capacity = {o.offer_id: o.capacity_units for o in city_day.offers}
    for offer_id, by_district in grants.items():
        assert all(isinstance(g, int) and g > 0 for g in by_district.values())
        assert sum(by_district.values()) <= capacity[offer_id] - used[offer_id]
    for piece in pieces:
        assert isinstance(piece, MatchPiece) and piece.round == 2
        district_use: Counter[str] = Counter()
        for line in first[piece.scope].lines:
            district_use[line.offer_id] += line.quantity_units
        for offer in piece.problem.offers:
            grant = grants.get(offer.offer_id, {}).get(piece.scope, 0)
            assert offer.capacity_units == district_use[offer.offer_id] + grant
    assert sorted(p.scope for p in pieces) == sorted({d for g in grants.values() for d in g})


def test_plan_never_exceeds_capacity_and_keeps_books(
    city_day: CityDay, reference: Reference
) -> None:
    allocation = reference.city.allocation
    assert capacity_overruns(city_day, allocation) == []
    demand = sum(d.quantity_units for d in allocation.demand)
    assert demand == int(city_day.demand["quantity_units"].sum())
    unmet = sum(u.quantity_units for u in allocation.unmet)
    assert allocation.objectives.served_units + unmet == demand
    # round 2 never makes a district worse, and it served more than round 1 alone
    assert reference.city.second_round_kept
    ids = [delivery_id(line) for line in allocation.lines]
    assert len(ids) == len(set(ids))


def test_joint_piece_against_separate_districts(city_day: CityDay) -> None:
    # the loss sample: 黄浦区 and 静安区 apart (round-1 shares, 0.2 dtime each) against one
    # piece with the sum of their shares and budgets
    comparison = compare_joint(city_day, ["黄浦区", "静安区"], MATCH)
    assert comparison.districts == ("黄浦区", "静安区")
    assert comparison.apart.priority_served_units == 4531
    assert comparison.joint.priority_served_units == 4531
    assert comparison.apart.served_units == 32306
    assert comparison.joint.served_units == 28236
    assert comparison.served_loss_units == 28236 - 32306
    assert comparison.priority_loss_units == 0


KEY_SCRIPT = """
from api.city.day import generated_city_day
from api.city.decompose import Decomposer, piece_key
from matcher.model import Params
day = generated_city_day(40, n_suppliers=4, seed=1)
print(piece_key(Decomposer(day).first_round(Params(seed=1))[0]))
"""


def test_piece_key_is_the_same_in_every_process() -> None:
    # sets (a supplier's lockdown levels served) iterate in an order that depends on the
    # process's string-hash seed; the key must not
    day = generated_city_day(40, n_suppliers=4, seed=1)
    here = piece_key(Decomposer(day).first_round(Params(seed=1))[0])
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", KEY_SCRIPT], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == here
