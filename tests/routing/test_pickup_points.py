"""Pickup points: exact capacitated p-median against brute force, sealed gate, infeasibility."""

from __future__ import annotations

import itertools
import math

import pytest

from data.geo import EARTH_RADIUS_M
from data.schemas import Building, Compound, Gate, LockdownLevel
from routing.pickup_points import (
    Candidate,
    PickupInfeasible,
    PickupInfeasibleReason,
    PickupParams,
    PickupPlan,
    PickupPointKind,
    PickupStatus,
    WalkingMatrix,
    building_entrances,
    delivery_gate,
    pickup_candidates,
    plan_pickup_points,
    walking_matrix,
)

LON0, LAT0 = 121.47, 31.23
"""Origin of the hand-made compound (人民广场), metres east/north of it below."""
FAST = PickupParams(time_limit_s=5.0, seed=1)
COMPOUND = Compound(
    compound_id="c1", name="测试小区", district="黄浦区", lon=LON0, lat=LAT0, households=420
)


def at(east_m: float, north_m: float) -> tuple[float, float]:
    """``(lon, lat)`` of a point ``east_m`` / ``north_m`` metres from the origin."""
    deg = 180.0 / (math.pi * EARTH_RADIUS_M)
    return LON0 + east_m * deg / math.cos(math.radians(LAT0)), LAT0 + north_m * deg


def building(n: int, east: float, north: float, households: int) -> Building:
    """Building ``b<n>`` (``<n>号楼``) of compound c1 at the given offset."""
    lon, lat = at(east, north)
    return Building(
        building_id=f"b{n}",
        compound_id="c1",
        name=f"{n}号楼",
        lon=lon,
        lat=lat,
        households=households,
    )


def gate(gate_id: str, name: str, east: float, north: float) -> Gate:
    """A gate of compound c1 at the given offset."""
    lon, lat = at(east, north)
    return Gate(gate_id=gate_id, compound_id="c1", name=name, lon=lon, lat=lat)


def square(point_id: str, east: float, north: float, capacity: int) -> Candidate:
    """An open-square candidate at the given offset."""
    lon, lat = at(east, north)
    return Candidate(
        point_id=point_id,
        kind=PickupPointKind.square,
        name=f"空地{point_id}",
        lon=lon,
        lat=lat,
        capacity_households=capacity,
    )


BUILDINGS = (
    building(1, 0, 0, 60),
    building(2, 40, 10, 90),
    building(3, 120, 0, 75),
    building(4, 160, 60, 50),
    building(5, 20, 140, 80),
    building(6, 130, 150, 65),
)
GATES = (gate("g1", "北门", 60, 200), gate("g2", "南门", 80, -40))


def plan_of(result: PickupPlan | PickupInfeasible) -> PickupPlan:
    """``result`` as a plan (fails the test with its reason otherwise)."""
    assert isinstance(result, PickupPlan), result
    return result


def infeasible_of(result: PickupPlan | PickupInfeasible) -> PickupInfeasible:
    """``result`` as an infeasibility (fails the test if it is a plan)."""
    assert isinstance(result, PickupInfeasible), result
    return result


def brute_force(
    households: list[int], distance: list[list[int]], capacity: list[int], k: int
) -> int | None:
    """Least Σ households × distance over every k-subset and every assignment into it."""
    best: int | None = None
    for subset in itertools.combinations(range(len(capacity)), k):
        for choice in itertools.product(subset, repeat=len(households)):
            load = dict.fromkeys(subset, 0)
            for h, j in zip(households, choice, strict=True):
                load[j] += h
            if any(load[j] > capacity[j] for j in subset):
                continue
            cost = sum(
                h * distance[i][j] for i, (h, j) in enumerate(zip(households, choice, strict=True))
            )
            best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize(
    ("k", "square_capacities", "gate_capacity", "optimum"),
    [
        (1, (500, 500), None, 48_765),
        (2, (500, 500), None, 34_860),
        (2, (230, 200), 150, 35_235),  # capacity binds: 34,860 without
        (3, (180, 150), 110, 43_695),  # capacity binds: 30,810 without
    ],
)
def test_objective_equals_brute_force_optimum(
    k: int, square_capacities: tuple[int, int], gate_capacity: int | None, optimum: int
) -> None:
    squares = (
        square("s1", 30, 40, square_capacities[0]),
        square("s2", 140, 100, square_capacities[1]),
    )
    params = FAST.model_copy(update={"gate_capacity_households": gate_capacity})
    plan = plan_of(
        plan_pickup_points(COMPOUND, BUILDINGS, GATES, k=k, candidates=squares, params=params)
    )

    points = pickup_candidates(GATES, squares, gate_capacity_households=gate_capacity or 420)
    matrix = walking_matrix(BUILDINGS, points)
    distance = [[d or 0 for d in row] for row in matrix.distance_m]
    expected = brute_force(
        [b.households for b in BUILDINGS], distance, [p.capacity_households for p in points], k
    )
    assert expected == optimum
    assert plan.status is PickupStatus.optimal
    assert plan.objective_household_m == expected
    assert plan.bound_household_m == expected
    assert len(plan.points) == k
    assert [a.building_id for a in plan.assignments] == [b.building_id for b in BUILDINGS]
    for p in plan.points:
        assert p.load_households <= p.capacity_households
    column = {p.point_id: j for j, p in enumerate(points)}
    for i, a in enumerate(plan.assignments):
        assert a.walking_m == distance[i][column[a.point_id]]


def test_capacity_binds_so_a_building_walks_further() -> None:
    near = Candidate(
        point_id="near",
        kind=PickupPointKind.square,
        name="近",
        lon=LON0,
        lat=LAT0,
        capacity_households=15,
    )
    far = near.model_copy(update={"point_id": "far", "name": "远", "capacity_households": 100})
    two = (building(1, 0, 0, 10), building(2, 0, 0, 10))
    matrix = WalkingMatrix(
        building_ids=("b1", "b2"), point_ids=("near", "far"), distance_m=((50, 300), (60, 100))
    )
    plan = plan_of(
        plan_pickup_points(
            COMPOUND, two, (), k=2, candidates=(near, far), matrix=matrix, params=FAST
        )
    )
    assert [(a.point_id, a.walking_m) for a in plan.assignments] == [("near", 50), ("far", 100)]
    assert plan.objective_household_m == 10 * 50 + 10 * 100
    assert {p.point_id: p.load_households for p in plan.points} == {"near": 10, "far": 10}
    assert plan.walking_source == "given"

    roomy = (near.model_copy(update={"capacity_households": 100}), far)
    plan = plan_of(
        plan_pickup_points(COMPOUND, two, (), k=2, candidates=roomy, matrix=matrix, params=FAST)
    )
    assert [a.point_id for a in plan.assignments] == ["near", "near"]
    assert plan.objective_household_m == 10 * 50 + 10 * 60


def test_sealed_compound_drops_everything_at_the_gate_and_ignores_k() -> None:
    plan = plan_of(
        plan_pickup_points(
            COMPOUND, BUILDINGS, GATES, k=5, lockdown=LockdownLevel.sealed, params=FAST
        )
    )
    # household-weighted centre ≈ (73 m E, 59 m N): 南门 (80, -40) is 100 m away, 北门 142 m
    assert plan.status is PickupStatus.sealed_gate_only
    assert [(p.point_id, p.kind, p.load_households, p.buildings) for p in plan.points] == [
        ("g2", PickupPointKind.gate, 420, 6)
    ]
    assert {a.point_id for a in plan.assignments} == {"g2"}
    assert len(plan.assignments) == len(BUILDINGS)
    assert "封控区" in plan.note and "k=5" in plan.note and "南门" in plan.note
    distance = walking_matrix(BUILDINGS, pickup_candidates(GATES, gate_capacity_households=1))
    assert plan.objective_household_m == sum(
        b.households * row[1]
        for b, row in zip(BUILDINGS, distance.distance_m, strict=True)
        if row[1] is not None
    )

    chosen = plan_of(
        plan_pickup_points(
            COMPOUND, BUILDINGS, GATES, k=1, delivery_gate_id="g1", lockdown=LockdownLevel.sealed
        )
    )
    assert {a.point_id for a in chosen.assignments} == {"g1"}
    with pytest.raises(ValueError, match=r"g9.*not a gate of compound c1"):
        plan_pickup_points(
            COMPOUND, BUILDINGS, GATES, k=1, delivery_gate_id="g9", lockdown=LockdownLevel.sealed
        )
    no_gate = infeasible_of(
        plan_pickup_points(COMPOUND, BUILDINGS, (), k=1, lockdown=LockdownLevel.sealed)
    )
    assert no_gate.reason is PickupInfeasibleReason.no_gate


def test_controlled_compound_is_planned_like_a_normal_one() -> None:
    plan = plan_of(
        plan_pickup_points(
            COMPOUND, BUILDINGS, GATES, k=2, lockdown=LockdownLevel.controlled, params=FAST
        )
    )
    assert plan.status is PickupStatus.optimal
    assert {p.point_id for p in plan.points} == {"g1", "g2"}


def test_delivery_gate_is_nearest_the_household_weighted_centre() -> None:
    heavy_north = (building(1, 0, 190, 500), building(2, 80, -40, 10))
    assert delivery_gate(heavy_north, GATES).gate_id == "g1"
    heavy_south = (building(1, 0, 190, 10), building(2, 80, -40, 500))
    assert delivery_gate(heavy_south, GATES).gate_id == "g2"


def test_total_capacity_short_is_a_clear_reason() -> None:
    squares = (square("s1", 30, 40, 150), square("s2", 140, 100, 150))
    result = infeasible_of(plan_pickup_points(COMPOUND, BUILDINGS, (), k=2, candidates=squares))
    assert result.reason is PickupInfeasibleReason.capacity_short
    assert result.detail == (
        "total capacity 300 households < 420 households in the compound; "
        "add a candidate or raise capacity"
    )

    three = (*squares, square("s3", 0, 0, 150))
    result = infeasible_of(plan_pickup_points(COMPOUND, BUILDINGS, (), k=2, candidates=three))
    assert result.reason is PickupInfeasibleReason.capacity_short
    assert result.detail.startswith("the k=2 largest candidates hold 300 households < 420")


def test_building_larger_than_every_point_is_named() -> None:
    squares = (square("s1", 30, 40, 85), square("s2", 140, 100, 400))
    entrances = building_entrances(BUILDINGS, capacity_households=85)
    result = infeasible_of(plan_pickup_points(COMPOUND, BUILDINGS, (), k=2, candidates=entrances))
    assert result.reason is PickupInfeasibleReason.building_over_capacity
    assert result.building_ids == ("b2",)
    assert "2号楼 (b2) has 90 households" in result.detail
    assert isinstance(
        plan_pickup_points(COMPOUND, BUILDINGS, (), k=2, candidates=squares, params=FAST),
        PickupPlan,
    )


def test_whole_buildings_that_cannot_be_packed_are_proven_infeasible() -> None:
    three = (building(1, 0, 0, 60), building(2, 10, 0, 60), building(3, 20, 0, 60))
    squares = (square("s1", 0, 10, 100), square("s2", 20, 10, 100))
    result = infeasible_of(
        plan_pickup_points(COMPOUND, three, (), k=2, candidates=squares, params=FAST)
    )
    assert result.reason is PickupInfeasibleReason.no_fit
    assert "k=2" in result.detail


def test_k_larger_than_candidates_is_an_error_with_counts() -> None:
    result = infeasible_of(
        plan_pickup_points(COMPOUND, BUILDINGS, GATES, k=5, candidates=(square("s1", 0, 0, 500),))
    )
    assert result.reason is PickupInfeasibleReason.too_few_candidates
    assert result.detail.startswith("k=5 but only 3 candidates")
    with pytest.raises(ValueError, match="k=0"):
        plan_pickup_points(COMPOUND, BUILDINGS, GATES, k=0)


def test_same_seed_gives_the_same_plan() -> None:
    entrances = building_entrances(BUILDINGS, capacity_households=200)
    runs = [
        plan_of(
            plan_pickup_points(
                COMPOUND,
                BUILDINGS,
                GATES,
                k=3,
                candidates=entrances,
                params=PickupParams(time_limit_s=5.0, seed=seed),
            )
        )
        for seed in (7, 7, 8)
    ]
    first, again, other = (r.model_dump(exclude={"solve_time_s"}) for r in runs)
    assert first == again
    assert runs[2].objective_household_m == runs[0].objective_household_m
    assert runs[0].status is PickupStatus.optimal and other["status"] == "optimal"


def test_building_with_zero_households_goes_to_its_nearest_chosen_point() -> None:
    empty = building(7, 135, 190, 0)  # next to 北门 g1
    plan = plan_of(plan_pickup_points(COMPOUND, (*BUILDINGS, empty), GATES, k=2, params=FAST))
    assignment = plan.assignment("b7")
    assert assignment.point_id == "g1"
    assert assignment.households == 0
    assert len(plan.assignments) == 7
    with pytest.raises(KeyError):
        plan.assignment("b99")


def test_unwalkable_pairs_are_respected_and_a_stranded_building_is_reported() -> None:
    two = (building(1, 0, 0, 10), building(2, 0, 0, 10))
    points = (square("s1", 0, 0, 100), square("s2", 0, 0, 100))
    matrix = WalkingMatrix(
        building_ids=("b1", "b2"), point_ids=("s1", "s2"), distance_m=((10, None), (None, 500))
    )
    plan = plan_of(
        plan_pickup_points(COMPOUND, two, (), k=2, candidates=points, matrix=matrix, params=FAST)
    )
    assert [a.point_id for a in plan.assignments] == ["s1", "s2"]

    stranded = matrix.model_copy(update={"distance_m": ((10, 20), (None, None))})
    result = infeasible_of(
        plan_pickup_points(COMPOUND, two, (), k=1, candidates=points, matrix=stranded)
    )
    assert result.reason is PickupInfeasibleReason.building_unreachable
    assert result.building_ids == ("b2",)
    with pytest.raises(ValueError, match="no column for point s2"):
        plan_pickup_points(
            COMPOUND,
            two,
            (),
            k=1,
            candidates=points,
            matrix=WalkingMatrix(
                building_ids=("b1", "b2"), point_ids=("s1",), distance_m=((1,), (2,))
            ),
        )


def test_building_entrances_one_per_building_at_its_point() -> None:
    entrances = building_entrances(BUILDINGS[:2])
    assert [(c.point_id, c.kind, c.name, c.capacity_households) for c in entrances] == [
        ("b1", PickupPointKind.entrance, "1号楼门口", 150),
        ("b2", PickupPointKind.entrance, "2号楼门口", 150),
    ]
    assert (entrances[1].lon, entrances[1].lat) == (BUILDINGS[1].lon, BUILDINGS[1].lat)


def test_candidates_gates_first_and_a_given_gate_replaces_the_automatic_one() -> None:
    own = Candidate(
        point_id="g2",
        kind=PickupPointKind.gate,
        name="南门",
        lon=GATES[1].lon,
        lat=GATES[1].lat,
        capacity_households=40,
    )
    points = pickup_candidates(GATES, (square("s1", 0, 0, 9), own), gate_capacity_households=420)
    assert [(p.point_id, p.capacity_households) for p in points] == [
        ("g1", 420),
        ("g2", 40),
        ("s1", 9),
    ]
    with pytest.raises(ValueError, match="'s1' is given twice"):
        pickup_candidates(
            (), (square("s1", 0, 0, 9), square("s1", 5, 0, 9)), gate_capacity_households=1
        )


def test_walking_matrix_is_great_circle_times_circuity_in_integer_metres() -> None:
    matrix = walking_matrix((building(1, 0, 0, 1),), (square("s1", 0, 100, 1),))
    assert matrix.distance_m == ((130,),)
    assert matrix.source == "great-circle × 1.3"
    assert walking_matrix(
        (building(1, 0, 0, 1),), (square("s1", 0, 100, 1),), circuity=1.5
    ).distance_m == ((150,),)
    with pytest.raises(ValueError, match="2 values for 1 points"):
        WalkingMatrix(building_ids=("b1",), point_ids=("s1",), distance_m=((1, 2),))


def test_buildings_of_another_compound_are_refused() -> None:
    stray = BUILDINGS[0].model_copy(update={"compound_id": "c2"})
    with pytest.raises(ValueError, match="b1 belongs to compound c2, not c1"):
        plan_pickup_points(COMPOUND, (stray,), GATES, k=1)
    result = infeasible_of(plan_pickup_points(COMPOUND, (), GATES, k=1))
    assert result.reason is PickupInfeasibleReason.no_buildings
