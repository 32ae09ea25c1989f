"""Explanations fit to publish to residents: per compound × category, why these suppliers
and why not each other candidate, in plain Chinese and English.

Allocation rules are public (账目公示): every decision the matcher took for a compound ×
category becomes a ``Decision`` with a sentence per chosen supplier (quantity and cost
breakdown) and per supplier not chosen (its eligibility reason, or why an eligible offer
was not used), plus a sentence for any unmet part.
"""

from __future__ import annotations

import enum

from data.schemas import Identifier, Model
from matcher.eligibility import Bilingual, Eligibility, Reason, check_eligibility, describe
from matcher.model import Problem
from matcher.result import UNMET_REASON_TEXT, Allocation


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


class Decision(Model):
    """Everything said about one compound × category."""

    compound_id: Identifier
    category_id: Identifier
    demand_units: int
    served_units: int
    headline: Bilingual
    suppliers: tuple[SupplierNote, ...]

    def text(self, lang: str = "zh") -> str:
        """Headline and one line per supplier, in ``lang`` (``zh`` or ``en``)."""
        lines = [getattr(self.headline, lang)]
        lines += [f"- {getattr(note.text, lang)}" for note in self.suppliers]
        return "\n".join(lines)


def _yuan(cents: int) -> str:
    return f"{cents / 100:.2f}"


def explain(
    problem: Problem, allocation: Allocation, eligibility: Eligibility | None = None
) -> tuple[Decision, ...]:
    """One ``Decision`` per demand row of ``allocation``, in compound, category order."""
    eligibility = eligibility or check_eligibility(problem)
    unmet = {(u.compound_id, u.category_id): u for u in allocation.unmet}
    lines_of: dict[tuple[str, str], list[int]] = {}
    for n, line in enumerate(allocation.lines):
        lines_of.setdefault((line.compound_id, line.category_id), []).append(n)
    decisions = []
    for row in sorted(allocation.demand, key=lambda d: (d.compound_id, d.category_id)):
        key = (row.compound_id, row.category_id)
        compound = problem.compounds[problem.compound_index[row.compound_id]]
        category = problem.category_by_id[row.category_id]
        chosen = [allocation.lines[n] for n in lines_of.get(key, [])]
        served = sum(line.quantity_units for line in chosen)
        notes: list[SupplierNote] = []
        for line in chosen:
            supplier = problem.supplier_by_id[line.supplier_id]
            offer = problem.offer_by_id[line.offer_id]
            km = line.distance_m / 1000
            notes.append(
                SupplierNote(
                    supplier_id=line.supplier_id,
                    offer_id=line.offer_id,
                    verdict=Verdict.chosen,
                    reason=Reason.eligible,
                    quantity_units=line.quantity_units,
                    text=Bilingual(
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
                    ),
                )
            )
        chosen_offers = {line.offer_id for line in chosen}
        for supplier in sorted(problem.suppliers, key=lambda s: s.supplier_id):
            offers = [
                o
                for o in problem.offers
                if o.supplier_id == supplier.supplier_id and o.category_id == row.category_id
            ]
            if not offers:
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
                            compound_id=row.compound_id,
                            category_id=row.category_id,
                        ),
                    )
                )
            for offer in offers:
                if offer.offer_id in chosen_offers:
                    continue
                reason = eligibility.reason(offer.offer_id, row.compound_id)
                if reason is Reason.eligible:
                    text = _eligible_unused(problem, offer.offer_id, supplier.name)
                    verdict = Verdict.eligible_not_chosen
                else:
                    text = describe(
                        problem,
                        eligibility,
                        reason,
                        supplier_id=supplier.supplier_id,
                        compound_id=row.compound_id,
                        category_id=row.category_id,
                        offer_id=offer.offer_id,
                    )
                    verdict = Verdict.ineligible
                notes.append(
                    SupplierNote(
                        supplier_id=supplier.supplier_id,
                        offer_id=offer.offer_id,
                        verdict=verdict,
                        reason=reason,
                        text=text,
                    )
                )
        headline_zh = (
            f"{compound.name}{problem.delivery_date.isoformat()}{category.name_zh}："
            f"需求{row.quantity_units}{category.unit}，分配{served}{category.unit}"
        )
        headline_en = (
            f"{compound.name}, {problem.delivery_date.isoformat()}, {category.name_en}: "
            f"demand {row.quantity_units}, allocated {served}"
        )
        if row.priority_quantity_units:
            p_served = min(served, row.priority_quantity_units)
            headline_zh += f"（优先户需求{row.priority_quantity_units}，已保障{p_served}）"
            headline_en += (
                f" (priority households {row.priority_quantity_units}, served {p_served})"
            )
        short = unmet.get(key)
        if short is not None:
            zh, en = UNMET_REASON_TEXT[short.reason]
            headline_zh += f"；缺{short.quantity_units}{category.unit}，原因：{zh}"
            headline_en += f"; {short.quantity_units} short because {en}"
        else:
            headline_zh += "。"
            headline_en += "."
        decisions.append(
            Decision(
                compound_id=row.compound_id,
                category_id=row.category_id,
                demand_units=row.quantity_units,
                served_units=served,
                headline=Bilingual(zh=headline_zh, en=headline_en),
                suppliers=tuple(notes),
            )
        )
    return tuple(decisions)


def _eligible_unused(problem: Problem, offer_id: str, supplier_name: str) -> Bilingual:
    """Why an eligible offer was not used for this compound × category."""
    offer = problem.offer_by_id[offer_id]
    return Bilingual(
        zh=(
            f"{supplier_name}符合条件（单价{_yuan(offer.unit_price_cents)}元，起送"
            f"{offer.min_order_units}份），但没有被选中：按公开规则先保障优先户、"
            "再让各小区公平分配、然后尽量多供应，最后选总成本最低的方案，"
            "而它的供应量已分给其他小区、单价或配送成本更高、低于起送份数，"
            "或本小区接收供应商数量已达上限。"
        ),
        en=(
            f"{supplier_name} is eligible (unit price {_yuan(offer.unit_price_cents)} yuan, "
            f"minimum order {offer.min_order_units}) but was not chosen: the public rules "
            "serve priority households first, then share fairly between compounds, then "
            "serve as much as possible, then take the lowest total cost, and its capacity "
            "went to other compounds, it costs more, the remaining need is below its "
            "minimum order, or the compound already receives the most suppliers allowed."
        ),
    )
