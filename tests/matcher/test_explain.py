"""Explanations: a bilingual sentence for every decision, named suppliers and counted ones."""

from __future__ import annotations

from data.schemas import CertificateType
from matcher.eligibility import Reason
from matcher.explain import Verdict, explain
from matcher.model import Params
from matcher.solve import solve
from tests.matcher.instances import World, one_pair, random_world, shortage

FAST = Params(time_limit_s=2.0, num_workers=2)


def test_every_decision_is_explained() -> None:
    world = one_pair("pork")
    world.add_supplier("s2")
    world.add_offer("o2", "s2", "pork", 100, price=900)
    world.add_supplier("s3")
    world.add_offer("o3", "s3", "pork", 100, max_km=0.2)
    world.add_supplier("s4")
    world.drop_certificates("s2", CertificateType.quarantine_report)
    problem = world.problem()
    allocation = solve(problem, FAST)
    # max_alternatives=None is the audit view: every supplier named with its own sentence
    # (the default summary counts ineligible suppliers instead; see the tests below)
    (decision,) = explain(problem, allocation, max_alternatives=None)
    verdicts = {note.supplier_id: note.verdict for note in decision.suppliers}
    assert verdicts == {
        "s1": Verdict.chosen,
        "s2": Verdict.ineligible,
        "s3": Verdict.ineligible,
        "s4": Verdict.ineligible,
    }
    assert decision.others == ()
    texts = {note.supplier_id: note.text for note in decision.suppliers}
    assert "检疫报告" in texts["s2"].zh and "quarantine report" in texts["s2"].en
    assert "配送范围" in texts["s3"].zh and "service area" in texts["s3"].en
    assert "没有猪肉的报价" in texts["s4"].zh
    assert "货款" in texts["s1"].zh and "goods" in texts["s1"].en
    for note in decision.suppliers:
        assert note.text.zh and note.text.en
    assert "需求10" in decision.text("zh") and "allocated 10" in decision.text("en")


def _crowded() -> World:
    """c1 wants 10 pork. s1 is cheapest; s2–s6 are eligible at rising prices; s7 has no
    quarantine report; s8 and s9 deliver only within 200 m; s10 sells no pork."""
    world = one_pair("pork")
    for k, price in zip(range(2, 7), (1100, 1200, 1300, 1400, 1500), strict=True):
        world.add_supplier(f"s{k}")
        world.add_offer(f"o{k}", f"s{k}", "pork", 100, price=price)
    world.add_supplier("s7")
    world.add_offer("o7", "s7", "pork", 100, price=500)
    world.drop_certificates("s7", CertificateType.quarantine_report)
    for k in (8, 9):
        world.add_supplier(f"s{k}")
        world.add_offer(f"o{k}", f"s{k}", "pork", 100, max_km=0.2)
    world.add_supplier("s10")
    world.add_offer("o10", "s10", "veg", 100)
    return world


def test_summary_names_the_cheapest_unused_and_counts_the_rest() -> None:
    problem = _crowded().problem()
    allocation = solve(problem, FAST)
    (decision,) = explain(problem, allocation)
    named = [(note.supplier_id, note.verdict) for note in decision.suppliers]
    assert named == [
        ("s1", Verdict.chosen),
        ("s2", Verdict.eligible_not_chosen),
        ("s3", Verdict.eligible_not_chosen),
        ("s4", Verdict.eligible_not_chosen),
    ]
    assert "需求已全部满足" in decision.suppliers[1].text.zh
    assert "already met" in decision.suppliers[1].text.en
    counts = {count.reason: count.suppliers for count in decision.others}
    assert counts == {
        Reason.eligible: 2,
        Reason.outside_service_area: 2,
        Reason.quarantine_report_missing: 1,
        Reason.category_not_offered: 1,
    }
    assert [count.suppliers for count in decision.others] == [2, 2, 1, 1]  # most first
    text = {count.reason: count.text for count in decision.others}
    assert text[Reason.outside_service_area].zh == "2家供应商：本小区不在其配送范围内"
    assert text[Reason.outside_service_area].en == "2 suppliers: outside their service area"
    assert text[Reason.quarantine_report_missing].en == "1 supplier: no quarantine report"
    assert "没有猪肉的报价" in text[Reason.category_not_offered].zh
    assert "2家供应商：本小区不在其配送范围内" in decision.text("zh")

    (fewer,) = explain(problem, allocation, max_alternatives=1)
    assert [note.supplier_id for note in fewer.suppliers] == ["s1", "s2"]
    assert {c.reason: c.suppliers for c in fewer.others}[Reason.eligible] == 4


def test_unused_supplier_says_why_by_the_rules_given() -> None:
    world = World()
    world.add_compound(1, {"veg": (20, 20), "pork": (20, 0)})
    world.add_supplier("s1")
    world.add_supplier("s2")
    world.add_offer("o1", "s1", "pork", 100, price=500)
    world.add_offer("o2", "s2", "veg", 100, price=600)
    world.add_offer("o3", "s2", "pork", 5, price=900)
    problem = world.problem()
    params = FAST.model_copy(update={"max_suppliers_per_compound": 1})
    allocation = solve(problem, params)
    # s2 takes c1's one slot (priority veg) and 5 pork; s1's cheaper pork cannot come too
    (pork,) = [d for d in explain(problem, allocation, params=params) if d.category_id == "pork"]
    assert [(n.supplier_id, n.quantity_units) for n in pork.suppliers] == [("s2", 5), ("s1", 0)]
    s1 = pork.suppliers[1]
    assert "（1家）" in s1.text.zh and "most suppliers allowed (1)" in s1.text.en
    # under rules that allow 3 suppliers the same allocation has no such excuse
    (pork,) = [d for d in explain(problem, allocation) if d.category_id == "pork"]
    assert "公开规则" in pork.suppliers[1].text.zh
    assert "public rules" in pork.suppliers[1].text.en


def test_named_and_counted_suppliers_add_up() -> None:
    problem = random_world(5, compounds=20, suppliers=8).problem()
    allocation = solve(problem, FAST.model_copy(update={"max_suppliers_per_compound": 2}))
    decisions = explain(problem, allocation, max_alternatives=2)
    assert len(decisions) == len(problem.demand)
    for decision in decisions:
        chosen = {n.supplier_id for n in decision.suppliers if n.verdict is Verdict.chosen}
        unused = [n for n in decision.suppliers if n.verdict is Verdict.eligible_not_chosen]
        assert len(unused) <= 2
        assert sum(n.quantity_units for n in decision.suppliers) == decision.served_units
        named = {n.supplier_id for n in decision.suppliers}
        assert len(named) == len(chosen) + len(unused)
        assert len(named) + sum(c.suppliers for c in decision.others) == len(problem.suppliers)
        assert all(c.text.zh and c.text.en for c in decision.others)
    only = explain(problem, allocation, max_alternatives=2, compound_ids={"c3"})
    assert {d.compound_id for d in only} == {"c3"}
    assert only == tuple(d for d in decisions if d.compound_id == "c3")


def test_shortage_headline_says_why() -> None:
    problem = shortage().problem()
    allocation = solve(problem, FAST)
    decisions = explain(problem, allocation)
    assert len(decisions) == len(problem.demand)
    for decision in decisions:
        assert "供应量已全部分配完" in decision.headline.zh
        assert "capacity" in decision.headline.en
    assert "优先户需求10" in decisions[0].headline.zh
