"""The matcher's answer: a frozen ``Allocation`` with lines, unmet demand and how it was found.

Nothing is dropped: the allocation carries the demand it answers, and its validator checks
that allocated + unmet == demand for every compound × category, so a caller can trust the
books balance before publishing them.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from typing import Self

from pydantic import Field, model_validator

from data.schemas import Identifier, Model
from matcher.eligibility import Reason
from matcher.model import DemandRow


class SolveStatus(enum.StrEnum):
    """How good the allocation is known to be."""

    optimal = "optimal"  # every lexicographic stage proven optimal (relative gap 0)
    feasible = "feasible"  # a valid allocation; some stage stopped at the time limit
    fallback_greedy = "fallback_greedy"  # the solver found nothing in time: greedy answer
    infeasible = "infeasible"  # never expected (serving nothing is always feasible)


class UnmetReason(enum.StrEnum):
    """Why part of a compound's demand for a category is not served."""

    no_eligible_supplier = "no_eligible_supplier"
    capacity_exhausted = "capacity_exhausted"
    below_min_order = "below_min_order"
    supplier_limit = "supplier_limit"


UNMET_REASON_TEXT: dict[UnmetReason, tuple[str, str]] = {
    UnmetReason.no_eligible_supplier: (
        "没有符合条件的供应商可以配送。",
        "no eligible supplier can deliver here.",
    ),
    UnmetReason.capacity_exhausted: (
        "符合条件的供应商当天的供应量已全部分配完。",
        "the eligible suppliers' capacity for the day is used up.",
    ),
    UnmetReason.below_min_order: (
        "需求量低于符合条件的供应商的起送份数。",
        "the quantity is below every eligible supplier's minimum order.",
    ),
    UnmetReason.supplier_limit: (
        "本小区当天接收的供应商数量已达上限。",
        "the compound already receives the most suppliers allowed per day.",
    ),
}


class AllocationLine(Model):
    """Units of one offer delivered to one compound, with the cost in cents."""

    offer_id: Identifier
    supplier_id: Identifier
    compound_id: Identifier
    category_id: Identifier
    depot_id: Identifier
    distance_m: int = Field(ge=0)
    quantity_units: int = Field(gt=0)
    goods_cost_cents: int = Field(ge=0, description="unit price × quantity")
    delivery_cost_cents: int = Field(
        ge=0, description="(per unit-km × distance + any pair surcharge) × quantity"
    )
    fixed_cost_cents: int = Field(
        ge=0, description="this line's share of the supplier–compound delivery's fixed cost"
    )

    @property
    def total_cost_cents(self) -> int:
        """Goods + delivery + fixed cost."""
        return self.goods_cost_cents + self.delivery_cost_cents + self.fixed_cost_cents


class SupplierReason(Model):
    """Why one supplier does not serve a compound × category."""

    supplier_id: Identifier
    offer_id: Identifier | None = None
    reason: Reason


class Unmet(Model):
    """Demand of a compound × category left unserved, and why."""

    compound_id: Identifier
    category_id: Identifier
    quantity_units: int = Field(gt=0)
    priority_quantity_units: int = Field(ge=0)
    reason: UnmetReason
    supplier_reasons: tuple[SupplierReason, ...] = ()


class Objectives(Model):
    """The lexicographic objective values, in order of importance."""

    priority_served_units: int = Field(ge=0)
    min_served_permille: tuple[tuple[Identifier, int], ...] = Field(
        default=(), description="per category: the smallest served share over servable compounds"
    )
    served_units: int = Field(ge=0)
    cap_excess_units: int = Field(default=0, ge=0)
    cost_cents: int = Field(ge=0)


class Summary(Model):
    """What to print for a day: served shares, unmet by reason, suppliers used."""

    demand_units: int
    served_units: int
    served_pct: float
    priority_demand_units: int
    priority_served_units: int
    priority_served_pct: float
    unmet_units_by_reason: tuple[tuple[UnmetReason, int], ...]
    suppliers_used: tuple[Identifier, ...]
    deliveries: int
    cost_cents: int
    status: SolveStatus

    def text(self) -> str:
        """A few human lines (English, numbers first)."""
        unmet = ", ".join(f"{r.value} {u}" for r, u in self.unmet_units_by_reason) or "none"
        return "\n".join(
            [
                f"served {self.served_units}/{self.demand_units} units ({self.served_pct:.1f} %)",
                f"priority served {self.priority_served_units}/{self.priority_demand_units} "
                f"units ({self.priority_served_pct:.1f} %)",
                f"unmet by reason: {unmet}",
                f"suppliers used: {len(self.suppliers_used)}; deliveries: {self.deliveries}; "
                f"cost {self.cost_cents / 100:.2f} yuan; status {self.status.value}",
            ]
        )


class StageReport(Model):
    """One lexicographic stage: the value fixed for the next stages and the solver's bound."""

    name: str
    status: str
    objective: int | None = None
    bound: int | None = Field(
        default=None,
        description="solver's proven bound (upper for maximisations, lower for cost), with "
        "the earlier stages fixed",
    )
    maximize: bool = True
    time_s: float = Field(default=0.0, ge=0)
    deterministic_time: float = Field(
        default=0.0, ge=0, description="CP-SAT's deterministic time spent (0 for other solvers)"
    )
    stopped_by: str | None = Field(
        default=None,
        description="what ended a stage that was not proven: 'deterministic_limit' "
        "(reproducible) or 'wall_clock' (the safety net: may differ run to run)",
    )

    @property
    def gap(self) -> float | None:
        """Relative gap |bound − objective| / max(|bound|, 1), ``None`` without a bound."""
        if self.objective is None or self.bound is None:
            return None
        return abs(self.bound - self.objective) / max(abs(self.bound), 1)

    def text(self) -> str:
        """``name status objective/bound (gap) time [stopped by ...]``."""
        stop = f" stopped by {self.stopped_by}" if self.stopped_by else ""
        if self.objective is None or self.gap is None:
            return f"{self.name} {self.status} {self.time_s:.1f}s{stop}"
        return (
            f"{self.name} {self.status} {self.objective}/{self.bound} "
            f"(gap {100 * self.gap:.1f} %) {self.time_s:.1f}s{stop}"
        )


class Allocation(Model):
    """The matcher's answer for one delivery date."""

    delivery_date: dt.date
    status: SolveStatus
    lines: tuple[AllocationLine, ...]
    unmet: tuple[Unmet, ...]
    demand: tuple[DemandRow, ...]
    objectives: Objectives
    cost_bound_cents: int | None = Field(
        default=None, description="solver's lower bound on cost with the earlier stages fixed"
    )
    stage_statuses: tuple[tuple[str, str], ...] = ()
    stages: tuple[StageReport, ...] = Field(
        default=(), description="per lexicographic stage: value, bound, gap, time"
    )
    solve_time_s: float = Field(ge=0)
    solver: str
    seed: int
    message: str = ""

    @model_validator(mode="after")
    def _conserved(self) -> Self:
        served: Counter[tuple[str, str]] = Counter()
        for line in self.lines:
            served[line.compound_id, line.category_id] += line.quantity_units
        missing: Counter[tuple[str, str]] = Counter()
        for unmet in self.unmet:
            missing[unmet.compound_id, unmet.category_id] += unmet.quantity_units
        keys = {(d.compound_id, d.category_id) for d in self.demand}
        for key in set(served) | set(missing):
            if key not in keys:
                raise ValueError(f"allocation names {key[0]}/{key[1]}, which has no demand")
        for row in self.demand:
            key = (row.compound_id, row.category_id)
            if served[key] + missing[key] != row.quantity_units:
                raise ValueError(
                    f"{key[0]}/{key[1]}: allocated {served[key]} + unmet {missing[key]} != "
                    f"demand {row.quantity_units}"
                )
        return self

    def served_units(self, compound_id: str, category_id: str) -> int:
        """Units allocated to one compound × category."""
        return sum(
            line.quantity_units
            for line in self.lines
            if line.compound_id == compound_id and line.category_id == category_id
        )

    def summary(self) -> Summary:
        """Served %, priority served %, unmet by reason, suppliers used."""
        served: Counter[tuple[str, str]] = Counter()
        for line in self.lines:
            served[line.compound_id, line.category_id] += line.quantity_units
        demand = sum(d.quantity_units for d in self.demand)
        priority = sum(d.priority_quantity_units for d in self.demand)
        priority_served = sum(
            min(d.priority_quantity_units, served[d.compound_id, d.category_id])
            for d in self.demand
        )
        total = sum(served.values())
        by_reason: Counter[UnmetReason] = Counter()
        for unmet in self.unmet:
            by_reason[unmet.reason] += unmet.quantity_units
        return Summary(
            demand_units=demand,
            served_units=total,
            served_pct=100.0 * total / demand if demand else 100.0,
            priority_demand_units=priority,
            priority_served_units=priority_served,
            priority_served_pct=100.0 * priority_served / priority if priority else 100.0,
            unmet_units_by_reason=tuple(sorted(by_reason.items())),
            suppliers_used=tuple(sorted({line.supplier_id for line in self.lines})),
            deliveries=len({(line.supplier_id, line.compound_id) for line in self.lines}),
            cost_cents=sum(line.total_cost_cents for line in self.lines),
            status=self.status,
        )
