"""Pickup points for every compound of a day, with a simple rule for how many points.

A compound gets one point per ``households_per_point`` households (at most ``max_points``
and never more than its buildings); each candidate (gate or building entrance) takes at
most ``slack`` × its fair share of households, so points share the crowd. A sealed (封控)
compound's goods stay at its delivery gate and volunteers carry them to the doors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from pydantic import Field

from data.schemas import Building, Compound, Gate, LockdownLevel, Model
from routing.pickup_points import (
    PickupInfeasible,
    PickupParams,
    PickupPlan,
    building_entrances,
    plan_pickup_points,
)


class PickupRule(Model):
    """How many points a compound gets and how much each may take."""

    households_per_point: int = Field(default=400, gt=0)
    max_points: int = Field(default=3, ge=1)
    slack: float = Field(default=1.25, ge=1.0, description="capacity over the fair share")
    params: PickupParams = PickupParams(time_limit_s=2.0)


def plan_day_pickups(
    compounds: Sequence[Compound],
    buildings: Sequence[Building],
    gates: Sequence[Gate],
    *,
    levels: Mapping[str, LockdownLevel] | None = None,
    delivery_gates: Mapping[str, str] | None = None,
    rule: PickupRule | None = None,
) -> dict[str, PickupPlan | PickupInfeasible]:
    """A pickup plan (or the reason there is none) for each compound that has buildings."""
    rule = rule or PickupRule()
    levels = levels or {}
    delivery_gates = delivery_gates or {}
    buildings_of: dict[str, list[Building]] = {}
    gates_of: dict[str, list[Gate]] = {}
    for building in buildings:
        buildings_of.setdefault(building.compound_id, []).append(building)
    for gate in gates:
        gates_of.setdefault(gate.compound_id, []).append(gate)
    plans: dict[str, PickupPlan | PickupInfeasible] = {}
    for compound in compounds:
        own = buildings_of.get(compound.compound_id, [])
        if not own:
            continue
        households = sum(b.households for b in own)
        k = max(
            1, min(rule.max_points, len(own), math.ceil(households / rule.households_per_point))
        )
        capacity = math.ceil(households / k * rule.slack) if households else None
        gate_id = delivery_gates.get(compound.compound_id)
        known = {g.gate_id for g in gates_of.get(compound.compound_id, [])}
        plans[compound.compound_id] = plan_pickup_points(
            compound,
            own,
            gates_of.get(compound.compound_id, []),
            k=k,
            lockdown=levels.get(compound.compound_id),
            candidates=building_entrances(own, capacity_households=capacity),
            delivery_gate_id=gate_id if gate_id in known else None,
            params=rule.params,
        )
    return plans


def pickup_lookup(plans: Mapping[str, PickupPlan | PickupInfeasible]) -> dict[str, tuple[str, int]]:
    """building_id → (pickup point name, walking metres) for the documents' notices."""
    return {
        a.building_id: (a.point_name, a.walking_m)
        for plan in plans.values()
        if isinstance(plan, PickupPlan)
        for a in plan.assignments
    }
