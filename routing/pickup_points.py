"""Pickup points (取货点) inside a compound: a capacitated p-median over candidate points.

Choose ``k`` points among candidates (gates, open squares, building entrances) so that the
household-weighted walking distance from buildings is least, each building going to exactly
one chosen point and no point taking more households than its capacity. Compounds are small
(up to ~60 buildings, tens of candidates), so the model is solved exactly with CP-SAT on
integer data; a run stopped by the time limit says ``feasible`` and gives the proven bound.

A sealed compound (封控区) has a single drop, its delivery gate, and building volunteers carry
goods in: every building goes to that gate, ``k`` and capacities do not apply, and the plan
says so (``sealed_gate_only``). Walking distance is great-circle × a circuity factor, in
integer metres, unless a precomputed ``WalkingMatrix`` (e.g. from a road graph) is given.

Infeasibility is a result (``PickupInfeasible`` with a reason and how to fix it), never a
dropped building; inconsistent input (a building of another compound, a duplicate id, a
matrix without a needed id) raises ``ValueError``.

Solver settings (measured, OR-Tools 9.15, 2-core shared machine). Model: Booleans
``y_j`` (open) and ``x_ij`` (building i → candidate j, only where walkable and the building
fits), ``x_ij ⇒ y_j``, one point per building, ``Σ households·x_ij ≤ capacity_j·y_j``,
``Σ y = k``. ``linearization_level = 2`` is what lets few workers prove optimality: on the
demo focus compound (28 buildings, 31 candidates, k=3) one worker at level 2 proves it in
0.2–0.6 s; at the default level one worker stops at 60 s with a plan 35 % worse and two find
the optimum without proving it in 60 s (eight, parallel: 0.15–0.3 s); interleaved
(deterministic) 8-worker search takes 4–30 s. So the default (``deterministic=True``) is
one worker, reproducible for a seed by construction (unless the wall-clock limit cuts the
run short); ``deterministic=False`` runs ``num_workers`` (8) in parallel, no faster here
(60 synthetic buildings, k=3..5: 1–5 s one worker, 2–16 s eight on 2 cores), perhaps
faster on more cores, but ties between equally good plans may then fall either way.
Zero-household buildings weigh nothing in the objective; after solving each goes to its
nearest chosen point.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Sequence
from typing import Self

import numpy as np
from ortools.sat.python import cp_model
from pydantic import Field, model_validator

from data.geo import haversine_m, haversine_matrix_m
from data.schemas import Building, Compound, Gate, Identifier, Lat, LockdownLevel, Lon, Model

DEFAULT_CIRCUITY = 1.3
"""Walking distance inside a compound per metre of straight line (paths around buildings)."""


class PickupPointKind(enum.StrEnum):
    """What a candidate pickup point is on the ground."""

    gate = "gate"  # a compound gate (大门)
    square = "square"  # an open square or car park (空地、广场)
    entrance = "entrance"  # a building entrance (楼下)


class Candidate(Model):
    """A place that may become a pickup point, with the households it can serve at once."""

    point_id: Identifier
    kind: PickupPointKind
    name: str = Field(min_length=1)
    lon: Lon
    lat: Lat
    capacity_households: int = Field(ge=0, description="households whose goods fit there")


class PickupParams(Model):
    """How to plan: walking circuity, solver limits and seed, capacity of automatic gates."""

    circuity: float = Field(
        default=DEFAULT_CIRCUITY, ge=1.0, le=3.0, description="walking / straight-line distance"
    )
    time_limit_s: float = Field(default=10.0, gt=0, description="wall-clock limit of the solve")
    seed: int = Field(default=0, ge=0, description="CP-SAT random_seed")
    num_workers: int = Field(
        default=8,
        ge=1,
        description="CP-SAT workers of the parallel portfolio (deterministic=False)",
    )
    deterministic: bool = Field(
        default=True,
        description="one CP-SAT worker: same input and seed give the same plan whatever the "
        "thread timing; False runs the num_workers parallel portfolio",
    )
    gate_capacity_households: int | None = Field(
        default=None,
        ge=0,
        description="capacity of the gates added as candidates; None: the compound's "
        "households (no limit). A Candidate with a gate's id replaces that gate.",
    )


class WalkingMatrix(Model):
    """Walking metres from each building to each candidate; ``None`` where none is walkable."""

    building_ids: tuple[Identifier, ...]
    point_ids: tuple[Identifier, ...]
    distance_m: tuple[tuple[int | None, ...], ...]
    source: str = Field(default="given", description="where the distances come from")

    @model_validator(mode="after")
    def _shape(self) -> Self:
        for label, ids in (("building_ids", self.building_ids), ("point_ids", self.point_ids)):
            seen: set[str] = set()
            for identifier in ids:
                if identifier in seen:
                    raise ValueError(f"walking matrix: {label} repeats {identifier!r}")
                seen.add(identifier)
        if len(self.distance_m) != len(self.building_ids):
            raise ValueError(
                f"walking matrix: {len(self.distance_m)} rows for "
                f"{len(self.building_ids)} buildings; give one row per building"
            )
        for building_id, row in zip(self.building_ids, self.distance_m, strict=True):
            if len(row) != len(self.point_ids):
                raise ValueError(
                    f"walking matrix: row of building {building_id!r} has {len(row)} values "
                    f"for {len(self.point_ids)} points; give one per point"
                )
            for point_id, value in zip(self.point_ids, row, strict=True):
                if value is not None and value < 0:
                    raise ValueError(
                        f"walking matrix: {building_id!r} → {point_id!r} is {value} m; "
                        "distances are ≥ 0 (None: not walkable)"
                    )
        return self


class PickupStatus(enum.StrEnum):
    """How good a plan is known to be."""

    optimal = "optimal"  # proven least household-weighted walking distance
    feasible = "feasible"  # best found within the time limit; see bound_household_m
    sealed_gate_only = "sealed_gate_only"  # sealed compound: everything at the delivery gate


class PickupAssignment(Model):
    """Where one building collects its goods, and how far its residents (or volunteer) walk."""

    compound_id: Identifier
    building_id: Identifier
    point_id: Identifier
    point_kind: PickupPointKind
    point_name: str
    walking_m: int = Field(ge=0)
    households: int = Field(ge=0)


class ChosenPoint(Model):
    """A pickup point of the plan with the load it takes."""

    point_id: Identifier
    kind: PickupPointKind
    name: str
    lon: Lon
    lat: Lat
    capacity_households: int = Field(ge=0)
    load_households: int = Field(ge=0)
    buildings: int = Field(ge=0, description="number of buildings assigned to it")


class PickupPlan(Model):
    """The chosen points of a compound and the point of every building."""

    compound_id: Identifier
    status: PickupStatus
    k: int = Field(ge=1, description="points asked for (ignored when sealed_gate_only)")
    points: tuple[ChosenPoint, ...]
    assignments: tuple[PickupAssignment, ...]
    objective_household_m: int = Field(ge=0, description="Σ households × walking_m")
    bound_household_m: int = Field(ge=0, description="proven lower bound on the objective")
    solve_time_s: float = Field(ge=0)
    walking_source: str
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        buildings = [a.building_id for a in self.assignments]
        if len(set(buildings)) != len(buildings):
            raise ValueError("a building is assigned more than once")
        loads = {p.point_id: 0 for p in self.points}
        for a in self.assignments:
            if a.point_id not in loads:
                raise ValueError(f"building {a.building_id} goes to {a.point_id}, not chosen")
            loads[a.point_id] += a.households
        for p in self.points:
            if loads[p.point_id] != p.load_households:
                raise ValueError(f"point {p.point_id}: load {p.load_households} ≠ assigned")
        return self

    def assignment(self, building_id: str) -> PickupAssignment:
        """The assignment of ``building_id`` (KeyError if it is not in this compound)."""
        for a in self.assignments:
            if a.building_id == building_id:
                return a
        raise KeyError(building_id)


class PickupInfeasibleReason(enum.StrEnum):
    """Why no pickup plan exists for a compound."""

    no_buildings = "no_buildings"
    too_few_candidates = "too_few_candidates"  # k > candidates
    no_gate = "no_gate"  # sealed compound without a gate
    building_unreachable = "building_unreachable"  # no walkable candidate (matrix None)
    building_over_capacity = "building_over_capacity"  # more households than any point holds
    capacity_short = "capacity_short"  # all candidates, or the k largest, hold too few
    no_fit = "no_fit"  # proven: whole buildings cannot be packed into k points
    no_solution_in_time = "no_solution_in_time"  # the time limit ended the solve first


class PickupInfeasible(Model):
    """No plan: the reason, a sentence saying how to fix it, and the buildings concerned."""

    compound_id: Identifier
    reason: PickupInfeasibleReason
    detail: str
    building_ids: tuple[Identifier, ...] = ()


# --- candidates and distances ---------------------------------------------------------------


def building_entrances(
    buildings: Sequence[Building], *, capacity_households: int | None = None
) -> tuple[Candidate, ...]:
    """One entrance candidate per building, at the building's point, named ``<楼>门口``.

    ``point_id`` is the building's id; ``capacity_households`` None means no limit (the
    households of all the buildings given).
    """
    capacity = (
        sum(b.households for b in buildings) if capacity_households is None else capacity_households
    )
    return tuple(
        Candidate(
            point_id=b.building_id,
            kind=PickupPointKind.entrance,
            name=f"{b.name}门口",
            lon=b.lon,
            lat=b.lat,
            capacity_households=capacity,
        )
        for b in buildings
    )


def pickup_candidates(
    gates: Sequence[Gate],
    candidates: Sequence[Candidate] = (),
    *,
    gate_capacity_households: int,
) -> tuple[Candidate, ...]:
    """All candidates in solver order: the gates first, then ``candidates``.

    A candidate with a gate's id replaces that gate (to give it its own capacity); any other
    repeated ``point_id`` raises ``ValueError``.
    """
    given: dict[str, Candidate] = {}
    for c in candidates:
        if c.point_id in given:
            raise ValueError(
                f"candidate point_id {c.point_id!r} is given twice; ids must be unique"
            )
        given[c.point_id] = c
    result: list[Candidate] = []
    for gate in gates:
        if gate.gate_id in given:
            result.append(given.pop(gate.gate_id))
        else:
            result.append(
                Candidate(
                    point_id=gate.gate_id,
                    kind=PickupPointKind.gate,
                    name=gate.name,
                    lon=gate.lon,
                    lat=gate.lat,
                    capacity_households=gate_capacity_households,
                )
            )
    result.extend(c for c in candidates if c.point_id in given)
    return tuple(result)


def walking_matrix(
    buildings: Sequence[Building],
    candidates: Sequence[Candidate],
    *,
    circuity: float = DEFAULT_CIRCUITY,
) -> WalkingMatrix:
    """Great-circle metres × ``circuity``, rounded to integer metres, buildings × candidates."""
    if not 1.0 <= circuity <= 3.0:
        raise ValueError(f"circuity {circuity} is outside 1.0..3.0 (walking in a compound: ~1.3)")
    metres = haversine_matrix_m(
        np.array([b.lon for b in buildings], dtype=np.float64),
        np.array([b.lat for b in buildings], dtype=np.float64),
        np.array([c.lon for c in candidates], dtype=np.float64),
        np.array([c.lat for c in candidates], dtype=np.float64),
    ).reshape(len(buildings), len(candidates))
    rounded = np.rint(metres * circuity).astype(np.int64)
    return WalkingMatrix(
        building_ids=tuple(b.building_id for b in buildings),
        point_ids=tuple(c.point_id for c in candidates),
        distance_m=tuple(tuple(int(v) for v in row) for row in rounded),
        source=f"great-circle × {circuity:g}",
    )


def delivery_gate(buildings: Sequence[Building], gates: Sequence[Gate]) -> Gate:
    """The gate nearest the buildings' household-weighted centre (first gate on a tie).

    With no households at all every building weighs the same.
    """
    if not gates:
        raise ValueError("no gates given; a delivery gate is chosen among the compound's gates")
    if not buildings:
        return gates[0]
    weights = [b.households for b in buildings]
    if sum(weights) == 0:
        weights = [1] * len(buildings)
    total = sum(weights)
    lon = sum(w * b.lon for w, b in zip(weights, buildings, strict=True)) / total
    lat = sum(w * b.lat for w, b in zip(weights, buildings, strict=True)) / total
    return min(gates, key=lambda g: haversine_m(lon, lat, g.lon, g.lat))


# --- planning -------------------------------------------------------------------------------


def _check_input(
    compound: Compound, buildings: Sequence[Building], gates: Sequence[Gate], k: int
) -> None:
    """Raise ``ValueError`` on input that no plan can be made of whatever the data."""
    if k < 1:
        raise ValueError(f"k={k}; ask for at least one pickup point")
    seen: set[str] = set()
    for b in buildings:
        if b.compound_id != compound.compound_id:
            raise ValueError(
                f"building {b.building_id} belongs to compound {b.compound_id}, not "
                f"{compound.compound_id}; pass only the compound's buildings"
            )
        if b.building_id in seen:
            raise ValueError(f"building {b.building_id} is given twice")
        seen.add(b.building_id)
    for g in gates:
        if g.compound_id != compound.compound_id:
            raise ValueError(
                f"gate {g.gate_id} belongs to compound {g.compound_id}, not "
                f"{compound.compound_id}; pass only the compound's gates"
            )


def _distances(
    matrix: WalkingMatrix, buildings: Sequence[Building], candidates: Sequence[Candidate]
) -> list[list[int | None]]:
    """``matrix`` reordered to buildings × candidates; ``ValueError`` names a missing id."""
    rows = {b: i for i, b in enumerate(matrix.building_ids)}
    cols = {p: j for j, p in enumerate(matrix.point_ids)}
    for b in buildings:
        if b.building_id not in rows:
            raise ValueError(f"walking matrix has no row for building {b.building_id}")
    for c in candidates:
        if c.point_id not in cols:
            raise ValueError(f"walking matrix has no column for point {c.point_id}")
    return [
        [matrix.distance_m[rows[b.building_id]][cols[c.point_id]] for c in candidates]
        for b in buildings
    ]


def _plan(
    compound: Compound,
    buildings: Sequence[Building],
    candidates: Sequence[Candidate],
    distance: list[list[int | None]],
    chosen: list[int],
    point_of: list[int],
    *,
    status: PickupStatus,
    k: int,
    bound: int | None,
    solve_time_s: float,
    walking_source: str,
    note: str,
) -> PickupPlan:
    """Assemble the frozen plan from indices of chosen candidates and per-building points."""
    assignments = []
    for i, (b, j) in enumerate(zip(buildings, point_of, strict=True)):
        walking = distance[i][j]
        assert walking is not None  # assignments are only made to walkable points
        c = candidates[j]
        assignments.append(
            PickupAssignment(
                compound_id=compound.compound_id,
                building_id=b.building_id,
                point_id=c.point_id,
                point_kind=c.kind,
                point_name=c.name,
                walking_m=walking,
                households=b.households,
            )
        )
    points = tuple(
        ChosenPoint(
            point_id=candidates[j].point_id,
            kind=candidates[j].kind,
            name=candidates[j].name,
            lon=candidates[j].lon,
            lat=candidates[j].lat,
            capacity_households=candidates[j].capacity_households,
            load_households=sum(
                b.households for b, p in zip(buildings, point_of, strict=True) if p == j
            ),
            buildings=sum(1 for p in point_of if p == j),
        )
        for j in chosen
    )
    objective = sum(a.households * a.walking_m for a in assignments)
    return PickupPlan(
        compound_id=compound.compound_id,
        status=status,
        k=k,
        points=points,
        assignments=tuple(assignments),
        objective_household_m=objective,
        bound_household_m=objective if bound is None else min(bound, objective),
        solve_time_s=solve_time_s,
        walking_source=walking_source,
        note=note,
    )


def _sealed(
    compound: Compound,
    buildings: Sequence[Building],
    candidates: Sequence[Candidate],
    distance: list[list[int | None]],
    gate: Gate,
    *,
    k: int,
    walking_source: str,
) -> PickupPlan | PickupInfeasible:
    """Everything at the delivery gate: building volunteers carry goods in."""
    j = next(j for j, c in enumerate(candidates) if c.point_id == gate.gate_id)
    unreachable = tuple(b.building_id for i, b in enumerate(buildings) if distance[i][j] is None)
    if unreachable:
        return PickupInfeasible(
            compound_id=compound.compound_id,
            reason=PickupInfeasibleReason.building_unreachable,
            detail=f"{len(unreachable)} building(s) have no walking distance to the delivery "
            f"gate {gate.name} ({gate.gate_id}) in the walking matrix; give one",
            building_ids=unreachable,
        )
    note = (
        f"sealed (封控区): the only drop is the delivery gate {gate.name} ({gate.gate_id}); "
        f"building volunteers carry goods in; k={k} and capacities do not apply"
    )
    return _plan(
        compound,
        buildings,
        candidates,
        distance,
        [j],
        [j] * len(buildings),
        status=PickupStatus.sealed_gate_only,
        k=k,
        bound=None,
        solve_time_s=0.0,
        walking_source=walking_source,
        note=note,
    )


def _precheck(
    compound: Compound,
    buildings: Sequence[Building],
    candidates: Sequence[Candidate],
    distance: list[list[int | None]],
    k: int,
) -> PickupInfeasible | None:
    """The infeasibilities that show without solving, each with how to fix it."""

    def infeasible(
        reason: PickupInfeasibleReason, detail: str, ids: tuple[str, ...] = ()
    ) -> PickupInfeasible:
        return PickupInfeasible(
            compound_id=compound.compound_id, reason=reason, detail=detail, building_ids=ids
        )

    if len(candidates) < k:
        return infeasible(
            PickupInfeasibleReason.too_few_candidates,
            f"k={k} but only {len(candidates)} candidates; lower k or add candidates "
            "(building_entrances gives one per building)",
        )
    unreachable = tuple(
        b.building_id for i, b in enumerate(buildings) if all(d is None for d in distance[i])
    )
    if unreachable:
        return infeasible(
            PickupInfeasibleReason.building_unreachable,
            f"{len(unreachable)} building(s) cannot walk to any candidate: "
            f"{', '.join(unreachable)}; add a candidate they reach or fix the walking matrix",
            unreachable,
        )
    over = []
    for i, b in enumerate(buildings):
        largest = max(
            c.capacity_households for j, c in enumerate(candidates) if distance[i][j] is not None
        )
        if b.households > largest:
            over.append((b, largest))
    if over:
        b, largest = over[0]
        return infeasible(
            PickupInfeasibleReason.building_over_capacity,
            f"building {b.name} ({b.building_id}) has {b.households} households, more than the "
            f"largest capacity {largest} of a candidate it can walk to; raise a capacity or "
            "add a larger candidate",
            tuple(b.building_id for b, _ in over),
        )
    households = sum(b.households for b in buildings)
    capacities = sorted((c.capacity_households for c in candidates), reverse=True)
    if sum(capacities) < households:
        return infeasible(
            PickupInfeasibleReason.capacity_short,
            f"total capacity {sum(capacities)} households < {households} households in the "
            "compound; add a candidate or raise capacity",
        )
    if sum(capacities[:k]) < households:
        return infeasible(
            PickupInfeasibleReason.capacity_short,
            f"the k={k} largest candidates hold {sum(capacities[:k])} households < "
            f"{households} households in the compound; raise k, add a candidate or raise "
            "capacity",
        )
    return None


def _solve(
    compound: Compound,
    buildings: Sequence[Building],
    candidates: Sequence[Candidate],
    distance: list[list[int | None]],
    k: int,
    params: PickupParams,
    walking_source: str,
) -> PickupPlan | PickupInfeasible:
    """The capacitated p-median on CP-SAT: exact unless the time limit stops it."""
    model = cp_model.CpModel()
    open_ = [model.new_bool_var(f"y{j}") for j in range(len(candidates))]
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for i, b in enumerate(buildings):
        for j, c in enumerate(candidates):
            if distance[i][j] is not None and b.households <= c.capacity_households:
                x[i, j] = model.new_bool_var(f"x{i}_{j}")
                model.add_implication(x[i, j], open_[j])
    rows: list[list[cp_model.IntVar]] = [[] for _ in buildings]
    loads: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in candidates]
    for (i, j), v in x.items():
        rows[i].append(v)
        loads[j].append((buildings[i].households, v))
    for row in rows:
        model.add_exactly_one(row)
    for j, c in enumerate(candidates):
        model.add(sum(h * v for h, v in loads[j]) <= c.capacity_households * open_[j])
    model.add(sum(open_) == k)
    model.minimize(
        sum(buildings[i].households * (distance[i][j] or 0) * v for (i, j), v in x.items())
    )
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = params.time_limit_s
    p.random_seed = params.seed
    p.num_workers = 1 if params.deterministic else params.num_workers
    p.linearization_level = 2
    p.relative_gap_limit = 0.0
    p.absolute_gap_limit = 0.0
    started = time.perf_counter()
    code = solver.solve(model)
    elapsed = time.perf_counter() - started
    if code == cp_model.INFEASIBLE:
        return PickupInfeasible(
            compound_id=compound.compound_id,
            reason=PickupInfeasibleReason.no_fit,
            detail=f"no way to give whole buildings to k={k} points within their capacities "
            "(proven); raise k or a capacity, or add a candidate",
        )
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return PickupInfeasible(
            compound_id=compound.compound_id,
            reason=PickupInfeasibleReason.no_solution_in_time,
            detail=f"the solver found no plan within {params.time_limit_s:g} s "
            f"({solver.status_name(code)}); raise time_limit_s",
        )
    chosen = [j for j in range(len(candidates)) if solver.boolean_value(open_[j])]
    point_of = [-1] * len(buildings)
    for (i, j), v in x.items():
        if solver.boolean_value(v):
            point_of[i] = j
    for i, b in enumerate(buildings):
        if b.households == 0:  # no weight: the nearest chosen point, keeping the solver's on ties
            reach = [j for j in chosen if distance[i][j] is not None]
            best = min(reach, key=lambda j: (distance[i][j], j != point_of[i], j))
            point_of[i] = best
    optimal = code == cp_model.OPTIMAL
    bound = math.ceil(solver.best_objective_bound - 1e-6)
    note = ""
    if not optimal:
        note = f"time limit {params.time_limit_s:g} s reached: best plan found, not proven optimal"
    return _plan(
        compound,
        buildings,
        candidates,
        distance,
        chosen,
        point_of,
        status=PickupStatus.optimal if optimal else PickupStatus.feasible,
        k=k,
        bound=None if optimal else max(0, bound),
        solve_time_s=elapsed,
        walking_source=walking_source,
        note=note,
    )


def plan_pickup_points(
    compound: Compound,
    buildings: Sequence[Building],
    gates: Sequence[Gate],
    *,
    k: int,
    lockdown: LockdownLevel | None = None,
    candidates: Sequence[Candidate] = (),
    matrix: WalkingMatrix | None = None,
    delivery_gate_id: str | None = None,
    params: PickupParams | None = None,
) -> PickupPlan | PickupInfeasible:
    """Choose ``k`` pickup points and give every building one, least household-metres first.

    The gates are candidates together with ``candidates``. ``matrix`` (buildings ×
    candidates, any order, by id) replaces great-circle × ``params.circuity``. A sealed
    compound gets everything at ``delivery_gate_id`` (default: ``delivery_gate``).
    """
    params = PickupParams() if params is None else params
    _check_input(compound, buildings, gates, k)
    households = sum(b.households for b in buildings)
    gate_capacity = (
        households if params.gate_capacity_households is None else params.gate_capacity_households
    )
    points = pickup_candidates(gates, candidates, gate_capacity_households=gate_capacity)
    if matrix is None:
        matrix = walking_matrix(buildings, points, circuity=params.circuity)
    distance = _distances(matrix, buildings, points)
    if not buildings:
        return PickupInfeasible(
            compound_id=compound.compound_id,
            reason=PickupInfeasibleReason.no_buildings,
            detail=f"compound {compound.compound_id} has no buildings; load its buildings first",
        )
    if lockdown is LockdownLevel.sealed:
        if not gates:
            return PickupInfeasible(
                compound_id=compound.compound_id,
                reason=PickupInfeasibleReason.no_gate,
                detail=f"compound {compound.compound_id} is sealed and has no gate to drop "
                "goods at; add its gates",
            )
        if delivery_gate_id is None:
            gate = delivery_gate(buildings, gates)
        else:
            found = [g for g in gates if g.gate_id == delivery_gate_id]
            if not found:
                raise ValueError(
                    f"delivery gate {delivery_gate_id!r} is not a gate of compound "
                    f"{compound.compound_id}: {', '.join(g.gate_id for g in gates)}"
                )
            gate = found[0]
        return _sealed(
            compound, buildings, points, distance, gate, k=k, walking_source=matrix.source
        )
    problem = _precheck(compound, buildings, points, distance, k)
    if problem is not None:
        return problem
    return _solve(compound, buildings, points, distance, k, params, matrix.source)
