"""What leaders and deliveries say about suppliers, read from the store: leaders' refusals
and each supplier's reliability record (``matcher.reliability``).

Reliability reads the drivers' ``arrived`` stop reports against the stops' planned windows
(from the plan jobs' results), the receipt checks of the supplier's groups and the claims
against it. A delivered line is one group's delivery to one compound that was receipt-checked
or claimed on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import Connection, Engine, select

from data.tables import (
    ClaimRow,
    JobRow,
    ReceiptCheckRow,
    StopEventRow,
    SupplierRefusalRow,
    VehicleRow,
    table_of,
)
from matcher.claims import Claim
from matcher.reliability import Arrival, ReliabilityRecord, reliability_of
from routing.result import Plan

_REFUSALS = table_of(SupplierRefusalRow)
_EVENTS = table_of(StopEventRow)
_VEHICLES = table_of(VehicleRow)
_JOBS = table_of(JobRow)
_CHECKS = table_of(ReceiptCheckRow)
_CLAIMS = table_of(ClaimRow)


def refused_suppliers(conn: Connection, leader_username: str) -> dict[str, str]:
    """The suppliers a leader refused for their groups, with the reason, by supplier_id.

    The groups module should refuse to open a group on an offer of one of these (422
    ``supplier_refused`` naming the reason)."""
    rows = conn.execute(
        select(_REFUSALS.c.supplier_id, _REFUSALS.c.reason).where(
            _REFUSALS.c.leader == leader_username
        )
    )
    return {supplier_id: reason for supplier_id, reason in rows}


def _arrivals(conn: Connection, supplier_ids: Collection[str] | None) -> dict[str, list[Arrival]]:
    query = (
        select(
            _EVENTS.c.job_id,
            _EVENTS.c.vehicle_id,
            _EVENTS.c.delivery_id,
            _EVENTS.c.at,
            _VEHICLES.c.supplier_id,
        )
        .join(_VEHICLES, _VEHICLES.c.vehicle_id == _EVENTS.c.vehicle_id)
        .where(_EVENTS.c.status == "arrived")
        .order_by(_EVENTS.c.id)
    )
    if supplier_ids is not None:
        query = query.where(_VEHICLES.c.supplier_id.in_(list(supplier_ids)))
    events = conn.execute(query).all()
    windows: dict[tuple[str, str, str], tuple[object, object]] = {}
    for job_id in sorted({e.job_id for e in events}):
        result = conn.execute(select(_JOBS.c.result).where(_JOBS.c.job_id == job_id)).scalar()
        if not result or "plan" not in result:
            continue
        plan = Plan.model_validate(result["plan"])
        for route in plan.routes:
            for stop in route.stops:
                key = (job_id, route.vehicle_id, stop.delivery_id)
                windows[key] = (stop.window_start, stop.window_end)
    out: dict[str, list[Arrival]] = defaultdict(list)
    seen: set[tuple[str, str, str]] = set()
    for e in events:
        key = (e.job_id, e.vehicle_id, e.delivery_id)
        if key in seen or key not in windows:
            continue  # the first arrival report of a stop counts; unknown stops do not
        seen.add(key)
        start, end = windows[key]
        out[e.supplier_id].append(
            Arrival.model_validate({"window_start": start, "window_end": end, "arrived_at": e.at})
        )
    return out


def reliability_records(
    engine: Engine, supplier_ids: Collection[str] | None = None
) -> dict[str, ReliabilityRecord]:
    """The reliability record of each supplier that has any delivery data (all suppliers, or
    ``supplier_ids``), by supplier_id."""
    with engine.connect() as conn:
        arrivals = _arrivals(conn, supplier_ids)
        checks_q = select(
            _CHECKS.c.supplier_id,
            _CHECKS.c.group_id,
            _CHECKS.c.compound_id,
            _CHECKS.c.discrepancy,
        )
        claims_q = select(_CLAIMS.c.supplier_id, _CLAIMS.c.data)
        if supplier_ids is not None:
            checks_q = checks_q.where(_CHECKS.c.supplier_id.in_(list(supplier_ids)))
            claims_q = claims_q.where(_CLAIMS.c.supplier_id.in_(list(supplier_ids)))
        checks = conn.execute(checks_q).all()
        claims = [(s, Claim.model_validate(d)) for s, d in conn.execute(claims_q)]
    found: dict[str, list[bool]] = defaultdict(list)
    lines: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for supplier_id, group_id, compound_id, discrepancy in checks:
        found[supplier_id].append(bool(discrepancy))
        lines[supplier_id].add((group_id, compound_id))
    upheld: dict[str, list[bool]] = defaultdict(list)
    for supplier_id, claim in claims:
        upheld[supplier_id].append(claim.was_upheld)
        lines[supplier_id].add((claim.group_id, claim.compound_id))
    return {
        supplier_id: reliability_of(
            supplier_id,
            arrivals=arrivals.get(supplier_id, ()),
            checks=found.get(supplier_id, ()),
            claims_upheld=upheld.get(supplier_id, ()),
            delivered_lines=len(lines.get(supplier_id, ())),
        )
        for supplier_id in sorted(set(arrivals) | set(found) | set(upheld))
    }
