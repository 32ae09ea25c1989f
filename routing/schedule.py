"""The arrival schedule per gate (排期表) of a compound: which truck comes when, and where a
gate would take more trucks at once than it allows.

Built from the day's plan: every visit (consecutive stops of one vehicle at one gate) is a
row with its supplier, vehicle, the groups it delivers for, the arrival window and ETA,
and the unloading span; a visit that starts while the gate already unloads ``max_trucks``
other vehicles is flagged. Contacts are roles and the supplier's dispatch phone, never a
resident's or driver's phone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from pydantic import Field

from data.schemas import (
    SHANGHAI,
    AwareDatetime,
    Compound,
    Gate,
    Identifier,
    Model,
    Supplier,
    Vehicle,
)
from routing.gates import visits
from routing.result import Plan


class ScheduledArrival(Model):
    """One truck's visit to a gate."""

    supplier_id: Identifier
    supplier_name: str
    dispatch_phone: str = Field(description="the supplier's dispatch (调度) phone")
    vehicle_id: Identifier
    plate: str
    group_ids: tuple[str, ...] = Field(description="groups whose goods it brings")
    category_ids: tuple[Identifier, ...]
    units: int = Field(gt=0)
    window_start: AwareDatetime
    window_end: AwareDatetime
    eta: AwareDatetime
    unloading_from: AwareDatetime
    unloading_until: AwareDatetime
    trucks_at_gate: int = Field(ge=1, description="trucks unloading when this one starts")
    over_limit: bool


class GateSchedule(Model):
    """A gate's arrivals in time order, its truck limit and who meets the trucks."""

    gate_id: Identifier
    gate_name: str
    max_trucks: int = Field(ge=1)
    receiving_opens_at: dt.time
    receiving_closes_at: dt.time
    contact_role: str
    arrivals: tuple[ScheduledArrival, ...]
    over_limit: bool = Field(description="some arrival finds the gate full")


class ArrivalSchedule(Model):
    """排期表 of one compound on one day."""

    compound_id: Identifier
    compound_name: str
    delivery_date: dt.date
    gates: tuple[GateSchedule, ...]
    over_limit: bool
    notes_zh: tuple[str, ...]
    notes_en: tuple[str, ...]


def arrival_schedule(
    compound: Compound,
    gates: Sequence[Gate],
    plan: Plan,
    day: dt.date,
    *,
    suppliers: Sequence[Supplier],
    vehicles: Sequence[Vehicle],
    groups: Mapping[tuple[str, str], Sequence[str]] | None = None,
    contact_role: str = "小区门口志愿者 / gate volunteer",
) -> ArrivalSchedule:
    """The compound's schedule per gate from ``plan``; ``groups`` maps (supplier_id,
    category_id) to the compound's group ids delivered that way on ``day``."""
    groups = groups or {}
    supplier = {s.supplier_id: s for s in suppliers}
    plate = {v.vehicle_id: v.plate for v in vehicles}
    rows: dict[str, list[ScheduledArrival]] = {g.gate_id: [] for g in gates}
    limit = {g.gate_id: g.max_trucks for g in gates}
    for route in plan.routes:
        for first, last in visits(route.stops):
            here = route.stops[first : last + 1]
            if here[0].compound_id != compound.compound_id:
                continue
            categories = tuple(dict.fromkeys(s.category_id for s in here))
            found = supplier.get(route.supplier_id)
            rows.setdefault(here[0].gate_id, []).append(
                ScheduledArrival(
                    supplier_id=route.supplier_id,
                    supplier_name=route.supplier_id if found is None else found.name,
                    dispatch_phone="" if found is None else found.contact_phone,
                    vehicle_id=route.vehicle_id,
                    plate=plate.get(route.vehicle_id, route.vehicle_id),
                    group_ids=tuple(
                        sorted(
                            {g for c in categories for g in groups.get((route.supplier_id, c), ())}
                        )
                    ),
                    category_ids=categories,
                    units=sum(s.quantity_units for s in here),
                    window_start=here[0].window_start,
                    window_end=here[0].window_end,
                    eta=here[0].arrival,
                    unloading_from=here[0].service_start,
                    unloading_until=here[-1].departure,
                    trucks_at_gate=1,
                    over_limit=False,
                )
            )
    schedules = []
    notes_zh: list[str] = []
    notes_en: list[str] = []
    for gate in sorted(gates, key=lambda g: g.gate_id):
        arrivals = sorted(
            rows.get(gate.gate_id, []), key=lambda a: (a.unloading_from, a.vehicle_id)
        )
        flagged = []
        for a in arrivals:
            there = {
                b.vehicle_id
                for b in arrivals
                if b.unloading_from <= a.unloading_from < b.unloading_until
            } | {a.vehicle_id}
            over = len(there) > limit[gate.gate_id]
            flagged.append(a.model_copy(update={"trucks_at_gate": len(there), "over_limit": over}))
            if over:
                at = a.unloading_from.astimezone(SHANGHAI)
                notes_zh.append(
                    f"{gate.name}：{at:%H:%M} 有 {len(there)} 辆车同时卸货，超过上限 "
                    f"{gate.max_trucks} 辆，请与供应商调度错开时间。"
                )
                notes_en.append(
                    f"{gate.name}: {len(there)} trucks unload at {at:%H:%M}, over its limit of "
                    f"{gate.max_trucks}; ask the suppliers' dispatchers to stagger them."
                )
        schedules.append(
            GateSchedule(
                gate_id=gate.gate_id,
                gate_name=gate.name,
                max_trucks=gate.max_trucks,
                receiving_opens_at=gate.receiving_hours.opens_at,
                receiving_closes_at=gate.receiving_hours.closes_at,
                contact_role=contact_role,
                arrivals=tuple(flagged),
                over_limit=any(a.over_limit for a in flagged),
            )
        )
    return ArrivalSchedule(
        compound_id=compound.compound_id,
        compound_name=compound.name,
        delivery_date=day,
        gates=tuple(schedules),
        over_limit=any(g.over_limit for g in schedules),
        notes_zh=tuple(notes_zh),
        notes_en=tuple(notes_en),
    )
