"""Explanations: a bilingual sentence for every decision and every candidate."""

from __future__ import annotations

from data.schemas import CertificateType
from matcher.explain import Verdict, explain
from matcher.model import Params
from matcher.solve import solve
from tests.matcher.instances import one_pair, shortage


def test_every_decision_is_explained() -> None:
    world = one_pair("pork")
    world.add_supplier("s2")
    world.add_offer("o2", "s2", "pork", 100, price=900)
    world.add_supplier("s3")
    world.add_offer("o3", "s3", "pork", 100, max_km=0.2)
    world.add_supplier("s4")
    world.drop_certificates("s2", CertificateType.quarantine_report)
    problem = world.problem()
    allocation = solve(problem, Params(time_limit_s=2.0, num_workers=2))
    (decision,) = explain(problem, allocation)
    verdicts = {note.supplier_id: note.verdict for note in decision.suppliers}
    assert verdicts == {
        "s1": Verdict.chosen,
        "s2": Verdict.ineligible,
        "s3": Verdict.ineligible,
        "s4": Verdict.ineligible,
    }
    texts = {note.supplier_id: note.text for note in decision.suppliers}
    assert "检疫报告" in texts["s2"].zh and "quarantine report" in texts["s2"].en
    assert "配送范围" in texts["s3"].zh and "service area" in texts["s3"].en
    assert "没有猪肉的报价" in texts["s4"].zh
    assert "货款" in texts["s1"].zh and "goods" in texts["s1"].en
    for note in decision.suppliers:
        assert note.text.zh and note.text.en
    assert "需求10" in decision.text("zh") and "allocated 10" in decision.text("en")


def test_shortage_headline_says_why() -> None:
    problem = shortage().problem()
    allocation = solve(problem, Params(time_limit_s=2.0, num_workers=2))
    decisions = explain(problem, allocation)
    assert len(decisions) == len(problem.demand)
    for decision in decisions:
        assert "供应量已全部分配完" in decision.headline.zh
        assert "capacity" in decision.headline.en
    assert "优先户需求10" in decisions[0].headline.zh
