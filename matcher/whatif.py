"""What-if: run one day's matching under alternative rule sets and compare them side by side.

A ``Rules`` value is everything a committee may want to change before imposing it: the
fairness cap, the most suppliers per compound, one supplier per category, which
certificates count, and whether pooled groups (``matcher.pooling``) are proposed after the
matching and how far they may reach. Each scenario is a ``Rules``; the baseline (today's
rules: the matcher's defaults, or the base params given) always comes first.

Certificate rules are documented transformations of the ``Problem``, so eligibility and
the solver stay untouched and the defaults keep today's behaviour:

- ``require_verified_certificates``: only certificates a committee has verified
  (``Certificate.verified``) count; the others are removed from the problem. Drivers' test
  times recorded on the driver (``Driver.test_taken_at``) are not certificates and stay.
- ``require_quarantine_report=False``: no category requires a quarantine report (检疫报告)
  any more (meat, in the demo's categories); every other requirement stays.

Supplier size classes (so a rule's effect on small suppliers is visible): suppliers are
ranked by their offered capacity on the day in the baseline problem (then by id); a
supplier is *small* in the lowest third of ranks, *medium* in the middle third, *large* in
the top third, and suppliers with equal capacity share the class of the first of them.

Every scenario runs ``matcher.solve.solve`` with the same solver settings (deterministic by
default), so the comparison is reproducible.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import yaml
from pydantic import Field, ValidationError
from rich.table import Table

from data.schemas import CertificateType, Model
from matcher.model import Params, Problem
from matcher.pooling import PoolDrop, PoolingParams, propose_pools
from matcher.solve import solve

if TYPE_CHECKING:
    from data.store import Store

BASELINE = "baseline"


class Rules(Model):
    """One rule set to try: matcher rules, certificate rules and pooling."""

    fairness_cap_pct: int | None = Field(
        default=None, ge=1, le=100, description="no supplier above X % of a district's volume"
    )
    max_suppliers_per_compound: int = Field(default=3, ge=1)
    single_supplier_per_category: bool = False
    require_verified_certificates: bool = Field(
        default=False, description="only certificates marked verified count"
    )
    require_quarantine_report: bool = Field(
        default=True, description="categories that require a quarantine report keep requiring it"
    )
    pooling_distance_m: int | None = Field(
        default=None, gt=0, description="propose pooled groups within this distance; none: off"
    )
    pooling_drop: PoolDrop = PoolDrop.per_compound

    @classmethod
    def of(cls, params: Params) -> Rules:
        """The rules the matcher's ``params`` apply (certificates as today, no pooling)."""
        return cls(
            fairness_cap_pct=params.fairness_cap_pct,
            max_suppliers_per_compound=params.max_suppliers_per_compound,
            single_supplier_per_category=params.single_supplier_per_category,
        )

    def params(self, base: Params) -> Params:
        """``base`` (solver settings, costs) with this rule set's matcher rules."""
        return base.model_copy(
            update={
                "fairness_cap_pct": self.fairness_cap_pct,
                "max_suppliers_per_compound": self.max_suppliers_per_compound,
                "single_supplier_per_category": self.single_supplier_per_category,
            }
        )

    def problem(self, problem: Problem) -> Problem:
        """``problem`` under this rule set's certificate rules (unchanged by default)."""
        update: dict[str, Any] = {}
        if self.require_verified_certificates:
            update["certificates"] = tuple(c for c in problem.certificates if c.verified)
        if not self.require_quarantine_report:
            update["categories"] = tuple(
                c.model_copy(
                    update={
                        "required_certificates": tuple(
                            k
                            for k in c.required_certificates
                            if k is not CertificateType.quarantine_report
                        )
                    }
                )
                for c in problem.categories
            )
        if not update:
            return problem
        return Problem.model_validate({**problem.model_dump(), **update})

    def pooling(self) -> PoolingParams | None:
        """Pooling params, or ``None`` when this rule set proposes no pools."""
        if self.pooling_distance_m is None:
            return None
        return PoolingParams(max_distance_m=self.pooling_distance_m, drop=self.pooling_drop)

    def changes_from(self, other: Rules) -> str:
        """``key=value`` of every rule that differs from ``other`` ("" when none does)."""
        mine, theirs = self.model_dump(mode="json"), other.model_dump(mode="json")
        return ", ".join(
            f"{key}={_show(value)}" for key, value in mine.items() if value != theirs[key]
        )


RULE_NAMES: tuple[str, ...] = tuple(Rules.model_fields)


class Scenario(Model):
    """A named rule set."""

    name: str = Field(min_length=1, max_length=80)
    rules: Rules


def _show(value: object) -> str:
    return (
        "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    )


def _value(text: str) -> object:
    """A scenario value as written: ``none`` / ``null`` / empty is None, the rest as given
    (pydantic converts ``30`` and ``true`` to the field's type)."""
    stripped = text.strip()
    return None if stripped.lower() in ("none", "null", "") else stripped


def rules_with(base: Rules, changes: dict[str, object], *, scenario: str) -> Rules:
    """``base`` with ``changes`` applied and validated; errors name the field and the fix."""
    unknown = sorted(set(changes) - set(RULE_NAMES))
    if unknown:
        raise ValueError(
            f"scenario {scenario!r}: unknown rule {', '.join(unknown)}; "
            f"use one of {', '.join(RULE_NAMES)}"
        )
    try:
        return Rules.model_validate({**base.model_dump(), **changes})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e['input']!r})"
            for e in error.errors()
        )
        raise ValueError(f"scenario {scenario!r}: {problems}") from None


def parse_scenario(spec: str, base: Rules) -> Scenario:
    """A scenario from ``"key=value, key=value"``, optionally named ``"name: key=value"``."""
    name, _, body = spec.partition(":") if ":" in spec.split("=", 1)[0] else ("", "", spec)
    changes: dict[str, object] = {}
    for part in body.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(
                f"scenario {spec!r}: {part.strip()!r} is not key=value; "
                f"write e.g. fairness_cap_pct=30"
            )
        changes[key.strip()] = _value(value)
    if not changes:
        raise ValueError(f"scenario {spec!r} changes no rule; write e.g. fairness_cap_pct=30")
    rules = rules_with(base, changes, scenario=spec)
    return Scenario(name=name.strip() or rules.changes_from(base) or spec.strip(), rules=rules)


def load_scenarios(path: Path, base: Rules) -> list[Scenario]:
    """Scenarios from a YAML or JSON file: a mapping ``name: {rule: value}`` or a list of
    ``{name: ..., rules: {rule: value}}``."""
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ValueError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {error}"
        ) from None
    if isinstance(document, dict):
        entries = [{"name": name, "rules": rules} for name, rules in document.items()]
    elif isinstance(document, list):
        entries = document
    else:
        raise ValueError(
            f"{path}: expected a mapping of scenario name to rules, or a list of "
            "{name, rules}; got " + type(document).__name__
        )
    scenarios = []
    for k, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("rules", {}), dict):
            raise ValueError(f"{path}: scenario {k}: write name: ... and rules: {{key: value}}")
        name = str(entry.get("name") or f"scenario {k}")
        raw = entry.get("rules") or {}
        changes = {str(key): _value(v) if isinstance(v, str) else v for key, v in raw.items()}
        scenarios.append(Scenario(name=name, rules=rules_with(base, changes, scenario=name)))
    return scenarios


# --- supplier size classes -------------------------------------------------------------------


class SizeClass(enum.StrEnum):
    """A supplier's size by offered capacity on the day (terciles of rank)."""

    small = "small"
    medium = "medium"
    large = "large"


def size_classes(problem: Problem) -> dict[str, SizeClass]:
    """Each supplier's size class; see the module docstring for the rule."""
    capacity: Counter[str] = Counter({s.supplier_id: 0 for s in problem.suppliers})
    for offer in problem.offers:
        if offer.delivery_date == problem.delivery_date:
            capacity[offer.supplier_id] += offer.capacity_units
    ranked = sorted(capacity, key=lambda s: (capacity[s], s))
    n = len(ranked)
    first_rank: dict[int, int] = {}
    out: dict[str, SizeClass] = {}
    for rank, supplier_id in enumerate(ranked):
        at = first_rank.setdefault(capacity[supplier_id], rank)
        out[supplier_id] = (
            SizeClass.small
            if 3 * at < n
            else SizeClass.medium
            if 3 * at < 2 * n
            else SizeClass.large
        )
    return out


# --- running and comparing -------------------------------------------------------------------


class Outcome(Model):
    """One scenario's day: what is served, to whom, by which suppliers, at what cost."""

    name: str
    changes: str = Field(description="rules that differ from the baseline ('' for it)")
    rules: Rules
    demand_units: int = Field(ge=0)
    matched_units: int = Field(ge=0)
    pooled_units: int = Field(ge=0)
    served_units: int = Field(ge=0, description="matched + pooled")
    served_pct: float
    priority_demand_units: int = Field(ge=0)
    priority_served_units: int = Field(ge=0)
    priority_served_pct: float
    compounds_with_demand: int = Field(ge=0)
    compounds_at_zero: int = Field(ge=0, description="compounds with demand that get nothing")
    cap_excess_units: int = Field(
        default=0, ge=0, description="units still above the fairness cap (0 without a cap)"
    )
    small_supplier_units: int = Field(ge=0)
    medium_supplier_units: int = Field(ge=0)
    large_supplier_units: int = Field(ge=0)
    suppliers_used: int = Field(ge=0)
    deliveries: int = Field(ge=0, description="supplier × compound stops, pools included")
    pools: int = Field(ge=0)
    cost_cents: int = Field(ge=0, description="matched + pooled goods, delivery and fixed cost")
    status: str
    solve_time_s: float = Field(ge=0)

    def units_of(self, size: SizeClass) -> int:
        """Units delivered by suppliers of one size class."""
        return {
            SizeClass.small: self.small_supplier_units,
            SizeClass.medium: self.medium_supplier_units,
            SizeClass.large: self.large_supplier_units,
        }[size]


class WhatIf(Model):
    """The comparison: the baseline first, then each scenario, on the same day."""

    delivery_date: dt.date
    suppliers_by_size: tuple[tuple[SizeClass, int], ...]
    outcomes: tuple[Outcome, ...]

    def frame(self) -> pl.DataFrame:
        """One row per scenario (rules flattened), for CSV and JSON output."""
        rows = []
        for outcome in self.outcomes:
            row = outcome.model_dump(mode="json", exclude={"rules"})
            row.update({f"rule_{k}": v for k, v in outcome.rules.model_dump(mode="json").items()})
            rows.append(row)
        return pl.DataFrame(rows, infer_schema_length=None)


def run_whatif(
    problem: Problem,
    scenarios: Sequence[Scenario],
    params: Params | None = None,
    *,
    baseline: Rules | None = None,
) -> WhatIf:
    """Match ``problem`` under the baseline and every scenario; compare the outcomes.

    ``params`` give the solver settings (time limit, seed, deterministic) of every run and,
    unless ``baseline`` is given, the baseline's rules.
    """
    params = params if params is not None else Params()
    base = baseline if baseline is not None else Rules.of(params)
    names = [BASELINE, *(s.name for s in scenarios)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"scenario names repeat: {', '.join(repeated)}; give each a new name")
    classes = size_classes(problem)
    outcomes = [
        _outcome(problem, name, rules, base, params, classes)
        for name, rules in [(BASELINE, base), *((s.name, s.rules) for s in scenarios)]
    ]
    counts = Counter(classes.values())
    return WhatIf(
        delivery_date=problem.delivery_date,
        suppliers_by_size=tuple((size, counts[size]) for size in SizeClass),
        outcomes=tuple(outcomes),
    )


def _outcome(
    problem: Problem,
    name: str,
    rules: Rules,
    base: Rules,
    base_params: Params,
    classes: dict[str, SizeClass],
) -> Outcome:
    started = time.perf_counter()
    changed = rules.problem(problem)
    params = rules.params(base_params)
    allocation = solve(changed, params)
    pooling = rules.pooling()
    pooled = propose_pools(changed, allocation, pooling, rules=params) if pooling else None
    elapsed = time.perf_counter() - started

    summary = allocation.summary()
    served: Counter[str] = Counter()
    by_size: Counter[SizeClass] = Counter()
    stops = {(line.supplier_id, line.compound_id) for line in allocation.lines}
    for line in allocation.lines:
        served[line.compound_id] += line.quantity_units
        by_size[classes[line.supplier_id]] += line.quantity_units
    pooled_units = pooled_priority = pooled_cost = 0
    for pool in pooled.pools if pooled is not None else ():
        pooled_units += pool.joint_units
        pooled_priority += pool.priority_units
        pooled_cost += pool.cost_cents
        by_size[classes[pool.supplier_id]] += pool.joint_units
        for compound_id, units in pool.units_by_compound.items():
            served[compound_id] += units
        targets = [pool.drop_compound_id] if pool.drop_compound_id else pool.compound_ids
        stops.update((pool.supplier_id, c) for c in targets)
    wanted = {d.compound_id for d in allocation.demand if d.quantity_units > 0}
    total = summary.served_units + pooled_units
    priority = summary.priority_served_units + pooled_priority
    return Outcome(
        name=name,
        changes=rules.changes_from(base),
        rules=rules,
        demand_units=summary.demand_units,
        matched_units=summary.served_units,
        pooled_units=pooled_units,
        served_units=total,
        served_pct=_pct(total, summary.demand_units),
        priority_demand_units=summary.priority_demand_units,
        priority_served_units=priority,
        priority_served_pct=_pct(priority, summary.priority_demand_units),
        compounds_with_demand=len(wanted),
        compounds_at_zero=sum(1 for c in wanted if served[c] == 0),
        cap_excess_units=allocation.objectives.cap_excess_units,
        small_supplier_units=by_size[SizeClass.small],
        medium_supplier_units=by_size[SizeClass.medium],
        large_supplier_units=by_size[SizeClass.large],
        suppliers_used=len({s for s, _ in stops}),
        deliveries=len(stops),
        pools=len(pooled.pools) if pooled is not None else 0,
        cost_cents=summary.cost_cents + pooled_cost,
        status=allocation.status.value,
        solve_time_s=round(elapsed, 3),
    )


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 100.0


_ROWS: tuple[tuple[str, str], ...] = (
    ("served units", "served_units"),
    ("served %", "served_pct"),
    ("  of which pooled", "pooled_units"),
    ("priority served units", "priority_served_units"),
    ("priority served %", "priority_served_pct"),
    ("compounds left at zero", "compounds_at_zero"),
    ("units above the fairness cap", "cap_excess_units"),
    ("small suppliers' units", "small_supplier_units"),
    ("medium suppliers' units", "medium_supplier_units"),
    ("large suppliers' units", "large_supplier_units"),
    ("suppliers used", "suppliers_used"),
    ("deliveries (stops)", "deliveries"),
    ("pools", "pools"),
    ("cost, yuan", "cost_cents"),
    ("solver status", "status"),
    ("time, s", "solve_time_s"),
)


def comparison_table(whatif: WhatIf) -> Table:
    """One rich table: a row per measure, a column per scenario, changes against the
    baseline in brackets."""
    sizes = ", ".join(f"{n} {size.value}" for size, n in whatif.suppliers_by_size)
    table = Table(
        title=f"what-if on {whatif.delivery_date:%Y-%m-%d}",
        caption=f"suppliers by offered capacity (terciles): {sizes}; "
        + "".join(f"; {o.name}: {o.changes}" for o in whatif.outcomes[1:] if o.changes != o.name),
    )
    table.add_column("measure")
    for outcome in whatif.outcomes:
        table.add_column(outcome.name, justify="right", overflow="fold")
    base = whatif.outcomes[0]
    for label, key in _ROWS:
        cells = []
        for outcome in whatif.outcomes:
            value, before = getattr(outcome, key), getattr(base, key)
            if key == "cost_cents":
                value, before = value / 100, before / 100
            if isinstance(value, str):
                cells.append(value)
                continue
            text = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
            if outcome is not base and key != "solve_time_s" and value != before:
                delta = value - before
                text += f" ({delta:+,.2f})" if isinstance(delta, float) else f" ({delta:+,})"
            cells.append(text)
        table.add_row(label, *cells)
    return table


# --- the day's problem -----------------------------------------------------------------------


def demo_problem(seed: int = 20220415) -> Problem:
    """The embedded demo day's problem, with the same orders as ``linli demo`` stores
    (the focus compound's CSV and 接龙 paste, synthetic orders elsewhere), built in memory."""
    from data import load
    from data.aggregate import aggregate_demand, compound_demand
    from data.demo import DEMO_DATE, FOCUS_COMPOUND_ID, demo_files
    from data.generate import generate_orders, order_lines_of
    from data.jielong import parse_jielong
    from data.schemas import (
        BUILDING_SCHEMA,
        COMPOUND_SCHEMA,
        ORDER_LINE_SCHEMA,
        HouseholdOrder,
        models_frame,
    )
    from data.validate import Reference

    files = demo_files()
    compounds = load.load_compounds(files.compounds)
    buildings = load.load_buildings(files.buildings)
    categories = load.load_categories(files.categories)
    supply = load.load_supply(files.supply)
    reference = Reference.from_models(
        compounds=compounds, buildings=buildings, categories=categories
    )
    focus: list[HouseholdOrder] = list(load.load_orders(files.orders, reference=reference))
    focus += parse_jielong(
        files.jielong.read_text("utf-8"),
        compound_id=FOCUS_COMPOUND_ID,
        delivery_date=DEMO_DATE,
        categories=categories,
        buildings=[b for b in buildings if b.compound_id == FOCUS_COMPOUND_ID],
        source=files.jielong.name,
    )
    others = [c for c in compounds if c.compound_id != FOCUS_COMPOUND_ID]
    other_ids = {c.compound_id for c in others}
    synthetic = generate_orders(
        models_frame(others, COMPOUND_SCHEMA),
        models_frame([b for b in buildings if b.compound_id in other_ids], BUILDING_SCHEMA),
        delivery_date=DEMO_DATE,
        seed=seed,
    )
    focus_lines = pl.DataFrame(
        [
            {
                "order_id": order.order_id,
                "compound_id": order.compound_id,
                "building_id": order.building_id,
                "household_key": f"{order.compound_id}|{order.building_id}|{order.room}",
                "delivery_date": order.delivery_date,
                "category_id": item.category_id,
                "quantity_units": item.quantity_units,
                "priority": bool(order.priority_flags),
            }
            for order in focus
            for item in order.items
        ],
        schema=ORDER_LINE_SCHEMA,
    )
    lines = pl.concat([focus_lines.lazy(), order_lines_of(synthetic)])
    demand = compound_demand(aggregate_demand(lines)).collect()
    lockdown = load.load_lockdown(files.lockdown)
    return Problem.from_frames(  # each list in id order, as the store returns it
        DEMO_DATE,
        demand,
        categories=sorted(categories, key=lambda c: c.category_id),
        compounds=sorted(compounds, key=lambda c: c.compound_id),
        offers=sorted(supply.offers, key=lambda o: o.offer_id),
        suppliers=sorted(supply.suppliers, key=lambda s: s.supplier_id),
        depots=sorted(supply.depots, key=lambda d: d.depot_id),
        vehicles=sorted(supply.vehicles, key=lambda v: v.vehicle_id),
        drivers=sorted(supply.drivers, key=lambda d: d.driver_id),
        certificates=sorted(supply.certificates, key=lambda c: c.certificate_id),
        lockdown=sorted(lockdown, key=lambda s: (s.compound_id, s.valid_from)),
    )


def store_problem(store: Store, day: dt.date) -> Problem:
    """The problem of a stored day, built as ``linli match`` builds it."""
    from data.aggregate import aggregate_demand, compound_demand

    supply = store.supply()
    demand = compound_demand(aggregate_demand(store.order_lines(day))).collect()
    return Problem.from_supply(
        day,
        demand,
        supply,
        categories=store.categories(),
        compounds=store.compounds(),
        lockdown=store.lockdown(),
    )
