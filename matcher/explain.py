"""Explanations fit to publish to residents: per compound × category, why these suppliers
and why not the others, in plain Chinese and English.

Allocation rules are public (账目公示): every decision the matcher took for a compound ×
category becomes a ``Decision``. It names each supplier that delivers (quantity and cost
breakdown) and the few cheapest, then nearest, eligible suppliers that were not used (with the
reason this allocation gives), and counts every other supplier by the reason it could not
serve ("12 suppliers: outside their service area"), so a leader reads a short list even at
city scale. ``max_alternatives=None`` lists every supplier's offer one by one instead, for
an audit of a few compounds.

Offers are indexed by category and supplier once, and eligibility reasons are reduced per
supplier with numpy, so explaining a city is not a loop over offers × compounds.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from pydantic import Field

from data.schemas import LOCKDOWN_LEVEL_ZH, Category, Identifier, Model, Offer
from matcher import candidates
from matcher.eligibility import (
    REASONS,
    Bilingual,
    Eligibility,
    Reason,
    check_eligibility,
    describe,
)
from matcher.model import DemandRow, Params, Problem
from matcher.reliability import ReliabilityRecord
from matcher.result import UNMET_REASON_TEXT, Allocation, AllocationLine, Unmet

DEFAULT_ALTERNATIVES = 3
"""Eligible but unused suppliers named one by one in a decision; the rest are counted."""


class Verdict(enum.StrEnum):
    """What happened to one supplier's offer for a compound × category."""

    chosen = "chosen"
    eligible_not_chosen = "eligible_not_chosen"
    ineligible = "ineligible"


class SupplierNote(Model):
    """One supplier (offer) for a compound × category, with the reason and the sentence."""

    supplier_id: Identifier
    offer_id: Identifier | None
    verdict: Verdict
    reason: Reason
    quantity_units: int = 0
    text: Bilingual
    reliability: Bilingual | None = Field(
        default=None, description="the supplier's reliability record, when one was given"
    )


class ReasonCount(Model):
    """Suppliers not named in a decision, counted by why they did not serve it."""

    reason: Reason
    suppliers: int
    text: Bilingual


class Decision(Model):
    """Everything said about one compound × category."""

    compound_id: Identifier
    category_id: Identifier
    demand_units: int
    served_units: int
    headline: Bilingual
    suppliers: tuple[SupplierNote, ...]
    others: tuple[ReasonCount, ...] = ()

    def text(self, lang: str = "zh") -> str:
        """Headline, one line per named supplier and one per reason count, in ``lang``."""
        lines = [getattr(self.headline, lang)]
        for note in self.suppliers:
            lines.append(f"- {getattr(note.text, lang)}")
            if note.reliability is not None:
                lines.append(f"  {getattr(note.reliability, lang)}")
        lines += [f"- {getattr(count.text, lang)}" for count in self.others]
        return "\n".join(lines)


def _yuan(cents: int) -> str:
    return f"{cents / 100:.2f}"


# --- the offer index ---------------------------------------------------------------------


_CLOSENESS = np.array([0, *range(len(REASONS) - 1, 0, -1)], dtype=np.int8)
"""Rank per reason code, lower is closer to serving: eligible, then the rule checked last."""
_REASON_OF_RANK = {int(rank): REASONS[code] for code, rank in enumerate(_CLOSENESS)}


@dataclass(frozen=True)
class _CategoryIndex:
    """A category's offers grouped by supplier, with per-supplier ranks for every compound."""

    offers: npt.NDArray[np.int64]
    """Offer indices, grouped by supplier."""
    suppliers: tuple[str, ...]
    position: dict[str, int]
    """Row of each supplier in ``rank``."""
    supplier_of_offer: tuple[str, ...]
    offers_of: dict[str, tuple[int, ...]]
    """Offer indices of each supplier, in problem order."""
    rank: npt.NDArray[np.int8]
    """(suppliers × compounds): the closest rank of the supplier's offers of the category."""
    counts: npt.NDArray[np.int32]
    """(ranks × compounds): how many suppliers have each rank."""


def _index(problem: Problem, eligibility: Eligibility) -> dict[str, _CategoryIndex]:
    """Per category with offers: its offers by supplier and the supplier ranks (numpy)."""
    by_category: dict[str, list[int]] = defaultdict(list)
    for i, offer in enumerate(problem.offers):
        by_category[offer.category_id].append(i)
    n_ranks = len(REASONS)
    out: dict[str, _CategoryIndex] = {}
    for category_id, members in by_category.items():
        members.sort(key=lambda i: (problem.offers[i].supplier_id, i))
        offers = np.array(members, dtype=np.int64)
        owners = tuple(problem.offers[i].supplier_id for i in members)
        starts = [k for k in range(len(owners)) if k == 0 or owners[k] != owners[k - 1]]
        rank = np.minimum.reduceat(_CLOSENESS[eligibility.reasons[offers]], starts, axis=0)
        counts = np.stack([(rank == r).sum(axis=0, dtype=np.int32) for r in range(n_ranks)])
        out[category_id] = _CategoryIndex(
            offers=offers,
            suppliers=tuple(owners[k] for k in starts),
            position={owners[k]: s for s, k in enumerate(starts)},
            supplier_of_offer=owners,
            offers_of={
                owners[k]: tuple(members[k:end])
                for k, end in zip(starts, [*starts[1:], len(members)], strict=True)
            },
            rank=rank,
            counts=counts,
        )
    return out


# --- sentences ---------------------------------------------------------------------------


_COUNT_TEXT: dict[Reason, tuple[str, str]] = {
    Reason.eligible: (
        "符合条件但未被选用（单价更高或距离更远）",
        "eligible but not used (dearer or farther away)",
    ),
    Reason.category_not_offered: (
        "当天没有{category_zh}的报价",
        "no offer of {category_en} that day",
    ),
    Reason.no_capacity_on_date: ("报价不是当天的", "their offers are for another date"),
    Reason.supply_permit_invalid: (
        "没有在配送时段内有效的保供企业证明",
        "no supply permit valid over the delivery window",
    ),
    Reason.quarantine_report_missing: ("没有覆盖配送时段的检疫报告", "no quarantine report"),
    Reason.food_licence_missing: ("没有覆盖配送时段的食品经营许可证", "no food licence"),
    Reason.no_refrigerated_vehicle: ("没有冷藏车", "no refrigerated vehicle"),
    Reason.no_valid_driver_test: (
        "没有48小时核酸证明仍有效的司机",
        "no driver with a 48-hour test still valid",
    ),
    Reason.outside_service_area: ("本小区不在其配送范围内", "outside their service area"),
    Reason.lockdown_level_not_served: (
        "不向{level_zh}的小区配送",
        "they do not deliver to {level_en} compounds",
    ),
    Reason.no_vehicle_pass: (
        "没有进入{level_zh}的车辆通行证",
        "no vehicle pass for {level_en} compounds",
    ),
}


def _count_text(reason: Reason, count: int, context: dict[str, str]) -> Bilingual:
    zh, en = _COUNT_TEXT[reason]
    noun = "supplier" if count == 1 else "suppliers"
    return Bilingual(
        zh=f"{count}家供应商：{zh.format(**context)}",
        en=f"{count} {noun}: {en.format(**context)}",
    )


def _chosen_text(
    problem: Problem, line: AllocationLine, category: Category, offer: Offer
) -> Bilingual:
    supplier = problem.supplier_by_id[line.supplier_id]
    km = line.distance_m / 1000
    return Bilingual(
        zh=(
            f"{supplier.name}供应{line.quantity_units}{category.unit}"
            f"{category.name_zh}：单价{_yuan(offer.unit_price_cents)}元，"
            f"货款{_yuan(line.goods_cost_cents)}元，"
            f"配送费{_yuan(line.delivery_cost_cents)}元"
            f"（距仓库{km:.1f}公里），"
            f"固定费用{_yuan(line.fixed_cost_cents)}元；"
            "证照齐全且在配送时段内有效，本小区在其配送范围内。"
        ),
        en=(
            f"{supplier.name} supplies {line.quantity_units} units of "
            f"{category.name_en} at {_yuan(offer.unit_price_cents)} yuan each: "
            f"goods {_yuan(line.goods_cost_cents)} yuan, delivery "
            f"{_yuan(line.delivery_cost_cents)} yuan ({km:.1f} km from its "
            f"depot), fixed {_yuan(line.fixed_cost_cents)} yuan; its "
            "certificates are valid over the delivery window and the "
            "compound is in its service area."
        ),
    )


_UNUSED_WHY: dict[str, tuple[str, str]] = {
    "met": ("本小区的需求已全部满足", "the compound's demand is already met in full"),
    "capacity": (
        "它当天的供应量已全部分配给其他小区",
        "its capacity for the day went to other compounds",
    ),
    "limit": (
        "本小区当天接收的供应商数量已达上限（{limit}家）",
        "the compound already receives the most suppliers allowed ({limit})",
    ),
    "min_order": (
        "剩余需求低于它的起送份数",
        "the remaining need is below its minimum order",
    ),
    "candidates": (
        "它不在本小区最近的候选供应商之内（就近的{limit}家及每类商品最近的几家；"
        "全市规划只在这些供应商中分配）",
        "it is not among the compound's nearest candidate suppliers (the nearest {limit} and "
        "the nearest few of each category; a city-wide plan allocates among those only)",
    ),
    "rules": (
        "按公开规则（先保障优先户，再在各小区间公平分配，再尽量多供应，最后总成本最低）"
        "选用了其他方案",
        "the public rules (priority households first, then fair shares between compounds, "
        "then the most units served, then the lowest total cost) chose otherwise",
    ),
}


def _unused_text(
    supplier_name: str, offer: Offer, distance_m: int, why: str, limit: int
) -> Bilingual:
    """Why an eligible offer was not used for this compound × category."""
    zh_why, en_why = _UNUSED_WHY[why]
    km = distance_m / 1000
    return Bilingual(
        zh=(
            f"{supplier_name}符合条件（单价{_yuan(offer.unit_price_cents)}元，起送"
            f"{offer.min_order_units}份，距仓库{km:.1f}公里），但未被选用：{zh_why.format(limit=limit)}。"
        ),
        en=(
            f"{supplier_name} is eligible (unit price {_yuan(offer.unit_price_cents)} yuan, "
            f"minimum order {offer.min_order_units}, {km:.1f} km from its depot) but was not "
            f"used: {en_why.format(limit=limit)}."
        ),
    )


# --- the entry point ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Day:
    """What every decision of one allocation reads, computed once."""

    problem: Problem
    eligibility: Eligibility
    params: Params
    index: dict[str, _CategoryIndex]
    used_of_offer: dict[str, int]
    suppliers_at: dict[str, set[str]]
    counted: dict[tuple[Reason, int, str, str], ReasonCount] = field(default_factory=dict)
    candidates: dict[str, set[str]] | None = None
    """The suppliers the model held per compound (``Params.candidate_suppliers``)."""

    def unused(self, i: int, j: int, demand: int, served: int) -> SupplierNote:
        """The note of eligible offer ``i`` that compound ``j`` did not get, and why."""
        offer = self.problem.offers[i]
        used = self.used_of_offer.get(offer.offer_id, 0)
        compound_id = self.problem.compounds[j].compound_id
        at_gate = self.suppliers_at.get(compound_id, set())
        limit = self.params.max_suppliers_per_compound
        if served >= demand:
            why = "met"
        elif used >= offer.capacity_units:
            why = "capacity"
        elif offer.supplier_id not in at_gate and len(at_gate) >= limit:
            why = "limit"
        elif offer.min_order_units > min(demand - served, offer.capacity_units - used):
            why = "min_order"
        elif self.candidates is not None and offer.supplier_id not in self.candidates.get(
            compound_id, {offer.supplier_id}
        ):
            why = "candidates"
            limit = self.params.candidate_suppliers or limit
        else:
            why = "rules"
        return SupplierNote(
            supplier_id=offer.supplier_id,
            offer_id=offer.offer_id,
            verdict=Verdict.eligible_not_chosen,
            reason=Reason.eligible,
            text=_unused_text(
                self.problem.supplier_by_id[offer.supplier_id].name,
                offer,
                int(self.eligibility.distance_m[i, j]),
                why,
                limit,
            ),
        )

    def alternatives(self, cat: _CategoryIndex, j: int, named: set[str], most: int) -> list[int]:
        """Up to ``most`` eligible offers of suppliers not in ``named`` (which grows), one
        per supplier, cheapest then nearest first."""
        column = self.eligibility.reasons[cat.offers, j]
        distance = self.eligibility.distance_m[cat.offers, j]
        ranked = sorted(
            (int(k) for k in np.flatnonzero(column == 0)),
            key=lambda k: (
                self.problem.offers[int(cat.offers[k])].unit_price_cents,
                int(distance[k]),
                cat.supplier_of_offer[k],
            ),
        )
        out: list[int] = []
        for k in ranked:
            if len(out) >= most:
                break
            if cat.supplier_of_offer[k] not in named:
                named.add(cat.supplier_of_offer[k])
                out.append(int(cat.offers[k]))
        return out


def explain(
    problem: Problem,
    allocation: Allocation,
    eligibility: Eligibility | None = None,
    *,
    params: Params | None = None,
    max_alternatives: int | None = DEFAULT_ALTERNATIVES,
    compound_ids: Collection[str] | None = None,
    reliability: Mapping[str, ReliabilityRecord] | None = None,
) -> tuple[Decision, ...]:
    """One ``Decision`` per demand row of ``allocation``, in compound, category order.

    Parameters
    ----------
    problem, allocation
        The day's input and the matcher's answer for it.
    eligibility
        ``check_eligibility(problem)``, computed here when not given.
    params
        The rules the allocation was solved under (the supplier limit is quoted); defaults
        to ``Params()``.
    max_alternatives
        How many eligible but unused suppliers to name, cheapest then nearest first; every
        other supplier is counted by reason. ``None`` names every supplier's offer.
    compound_ids
        Explain only these compounds (all when ``None``).
    reliability
        Reliability records by supplier_id (``matcher.reliability``): each named supplier
        that has one gets its line (``SupplierNote.reliability``).
    """
    eligibility = eligibility or check_eligibility(problem)
    unmet = {(u.compound_id, u.category_id): u for u in allocation.unmet}
    lines_of: dict[tuple[str, str], list[AllocationLine]] = defaultdict(list)
    used_of_offer: dict[str, int] = defaultdict(int)
    suppliers_at: dict[str, set[str]] = defaultdict(set)
    for line in allocation.lines:
        lines_of[line.compound_id, line.category_id].append(line)
        used_of_offer[line.offer_id] += line.quantity_units
        suppliers_at[line.compound_id].add(line.supplier_id)
    params = params or Params()
    day = _Day(
        problem,
        eligibility,
        params,
        _index(problem, eligibility),
        used_of_offer,
        suppliers_at,
        candidates=candidates.of_problem(problem, params, eligibility),
    )
    wanted = None if compound_ids is None else set(compound_ids)
    decisions = []
    for row in sorted(allocation.demand, key=lambda d: (d.compound_id, d.category_id)):
        if wanted is not None and row.compound_id not in wanted:
            continue
        key = (row.compound_id, row.category_id)
        j = problem.compound_index[row.compound_id]
        category = problem.category_by_id[row.category_id]
        chosen = lines_of.get(key, [])
        served = sum(line.quantity_units for line in chosen)
        notes = [
            SupplierNote(
                supplier_id=line.supplier_id,
                offer_id=line.offer_id,
                verdict=Verdict.chosen,
                reason=Reason.eligible,
                quantity_units=line.quantity_units,
                text=_chosen_text(problem, line, category, problem.offer_by_id[line.offer_id]),
            )
            for line in chosen
        ]
        cat = day.index.get(row.category_id)
        others: list[ReasonCount] = []
        if max_alternatives is None:
            chosen_offers = {line.offer_id for line in chosen}
            for i in _every_offer(problem, eligibility, j, category, cat, chosen_offers, notes):
                notes.append(day.unused(i, j, row.quantity_units, served))
        else:
            named = {line.supplier_id for line in chosen}
            if cat is not None:
                for i in day.alternatives(cat, j, named, max_alternatives):
                    notes.append(day.unused(i, j, row.quantity_units, served))
            others = _counts(problem, j, category, cat, named, day.counted)
        if reliability:
            notes = [
                note.model_copy(update={"reliability": reliability[note.supplier_id].text()})
                if note.supplier_id in reliability
                else note
                for note in notes
            ]
        decisions.append(
            Decision(
                compound_id=row.compound_id,
                category_id=row.category_id,
                demand_units=row.quantity_units,
                served_units=served,
                headline=_headline(problem, j, category, row, served, unmet.get(key)),
                suppliers=tuple(notes),
                others=tuple(others),
            )
        )
    return tuple(decisions)


def _counts(
    problem: Problem,
    j: int,
    category: Category,
    cat: _CategoryIndex | None,
    named: set[str],
    cache: dict[tuple[Reason, int, str, str], ReasonCount],
) -> list[ReasonCount]:
    """The suppliers not in ``named``, counted by their closest reason, most first; equal
    counts are shared through ``cache`` (the models are frozen)."""
    by_reason: dict[Reason, int] = {}
    if cat is not None:
        column = cat.counts[:, j].copy()
        for supplier_id in named:
            s = cat.position.get(supplier_id)
            if s is not None:
                column[cat.rank[s, j]] -= 1
        by_reason = {_REASON_OF_RANK[r]: int(n) for r, n in enumerate(column) if n > 0}
    without = len(problem.suppliers) - (len(cat.suppliers) if cat is not None else 0)
    if without:
        by_reason[Reason.category_not_offered] = without
    level = problem.lockdown_levels[problem.compounds[j].compound_id]
    out = []
    for reason, count in sorted(by_reason.items(), key=lambda x: (-x[1], REASONS.index(x[0]))):
        key = (reason, count, category.category_id, level.value)
        if key not in cache:
            context = {
                "category_zh": category.name_zh,
                "category_en": category.name_en,
                "level_zh": LOCKDOWN_LEVEL_ZH[level],
                "level_en": level.value,
            }
            text = _count_text(reason, count, context)
            cache[key] = ReasonCount(reason=reason, suppliers=count, text=text)
        out.append(cache[key])
    return out


def _every_offer(
    problem: Problem,
    eligibility: Eligibility,
    j: int,
    category: Category,
    cat: _CategoryIndex | None,
    chosen_offers: set[str],
    notes: list[SupplierNote],
) -> list[int]:
    """Append a note per supplier without an offer of the category and per ineligible
    offer to ``notes``; return the eligible offers not chosen, for the caller to explain."""
    offers_of = cat.offers_of if cat is not None else {}
    compound_id = problem.compounds[j].compound_id
    eligible: list[int] = []
    for supplier in sorted(problem.suppliers, key=lambda s: s.supplier_id):
        members = offers_of.get(supplier.supplier_id, ())
        if not members:
            notes.append(
                SupplierNote(
                    supplier_id=supplier.supplier_id,
                    offer_id=None,
                    verdict=Verdict.ineligible,
                    reason=Reason.category_not_offered,
                    text=describe(
                        problem,
                        eligibility,
                        Reason.category_not_offered,
                        supplier_id=supplier.supplier_id,
                        compound_id=compound_id,
                        category_id=category.category_id,
                    ),
                )
            )
        for i in members:
            offer = problem.offers[i]
            if offer.offer_id in chosen_offers:
                continue
            reason = REASONS[int(eligibility.reasons[i, j])]
            if reason is Reason.eligible:
                eligible.append(i)
                continue
            notes.append(
                SupplierNote(
                    supplier_id=supplier.supplier_id,
                    offer_id=offer.offer_id,
                    verdict=Verdict.ineligible,
                    reason=reason,
                    text=describe(
                        problem,
                        eligibility,
                        reason,
                        supplier_id=supplier.supplier_id,
                        compound_id=compound_id,
                        category_id=category.category_id,
                        offer_id=offer.offer_id,
                    ),
                )
            )
    return eligible


def _headline(
    problem: Problem,
    j: int,
    category: Category,
    row: DemandRow,
    served: int,
    short: Unmet | None,
) -> Bilingual:
    """``compound, date, category: demand, allocated (priority), short because ...``."""
    name, day, unit = problem.compounds[j].name, problem.delivery_date.isoformat(), category.unit
    demand, priority = row.quantity_units, row.priority_quantity_units
    zh = f"{name}{day}{category.name_zh}：需求{demand}{unit}，分配{served}{unit}"
    en = f"{name}, {day}, {category.name_en}: demand {demand}, allocated {served}"
    if priority:
        p_served = min(served, priority)
        zh += f"（优先户需求{priority}，已保障{p_served}）"
        en += f" (priority households {priority}, served {p_served})"
    if short is not None:
        reason_zh, reason_en = UNMET_REASON_TEXT[short.reason]
        zh += f"；缺{short.quantity_units}{category.unit}，原因：{reason_zh}"
        en += f"; {short.quantity_units} short because {reason_en}"
    else:
        zh += "。"
        en += "."
    return Bilingual(zh=zh, en=en)
