"""What-if: rule sets change who is served and by which size of supplier; the CLI compares."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from data.schemas import CertificateType
from matcher.eligibility import Reason, check_eligibility
from matcher.model import Params, Problem
from matcher.pooling import PoolDrop
from matcher.whatif import (
    BASELINE,
    Outcome,
    Rules,
    SizeClass,
    load_scenarios,
    parse_scenario,
    run_whatif,
    size_classes,
)
from tests.matcher.instances import World
from tests.matcher.pooling_instances import sizes_day, tiny_day

FAST = Params(time_limit_s=2.0)
WHATIF = Path(__file__).resolve().parents[1] / "instances" / "whatif"
runner = CliRunner()


def outcomes(world: World, *specs: str) -> dict[str, Outcome]:
    """Outcomes by scenario name (baseline included) on ``world``."""
    scenarios = [parse_scenario(spec, Rules()) for spec in specs]
    result = run_whatif(world.problem(), scenarios, FAST)
    return {o.name: o for o in result.outcomes}


def volumes(outcome: Outcome) -> tuple[int, int, int]:
    """Units by small, medium and large suppliers."""
    return (
        outcome.units_of(SizeClass.small),
        outcome.units_of(SizeClass.medium),
        outcome.units_of(SizeClass.large),
    )


def test_size_classes_are_terciles_of_offered_capacity() -> None:
    problem = sizes_day().problem()
    assert size_classes(problem) == {
        "small": SizeClass.small,  # 40 units offered
        "mid": SizeClass.medium,  # 60
        "large": SizeClass.large,  # 400
    }
    world = sizes_day()
    world.add_supplier("twin")
    world.add_offer("twin-veg", "twin", "veg", 40)  # as small as "small": same class
    assert size_classes(world.problem())["twin"] is SizeClass.small


def test_max_suppliers_and_the_fairness_cap_move_volume_between_size_classes() -> None:
    got = outcomes(
        sizes_day(),
        "max_suppliers_per_compound=1",
        "fairness_cap_pct=50",
    )
    base = got[BASELINE]
    assert (base.served_units, base.demand_units, base.served_pct) == (120, 120, 100.0)
    assert volumes(base) == (40, 0, 80)  # small brings the cheapest veg, large the pork
    assert (base.suppliers_used, base.deliveries, base.cost_cents) == (2, 4, 122_000)

    one = got["max_suppliers_per_compound=1"]
    assert one.changes == "max_suppliers_per_compound=1"
    assert one.served_units == 120
    assert volumes(one) == (0, 0, 120)  # only the large supplier sells both categories
    assert (one.suppliers_used, one.deliveries, one.cost_cents) == (1, 2, 126_000)

    capped = got["fairness_cap_pct=50"]
    assert volumes(capped) == (30, 30, 60)  # nobody above half of a category's volume
    assert (capped.cap_excess_units, base.cap_excess_units) == (0, 0)
    assert capped.cost_cents == 126_000
    assert capped.priority_served_units == capped.priority_demand_units == 10


def test_a_tighter_supplier_limit_leaves_demand_and_priority_unserved() -> None:
    world = sizes_day()
    world.offers = [o for o in world.offers if o.offer_id != "large-pork"]  # no one sells both
    got = outcomes(world, "max_suppliers_per_compound=1")
    base, one = got[BASELINE], got["max_suppliers_per_compound=1"]
    assert (base.served_units, base.priority_served_units) == (120, 10)
    assert volumes(base) == (40, 60, 20)
    # one supplier each: one category per compound, the cheapest veg (small, then large)
    assert (one.served_units, one.served_pct) == (60, 50.0)
    assert (one.priority_served_units, one.priority_served_pct) == (5, 50.0)
    assert volumes(one) == (30, 0, 30)
    assert one.compounds_at_zero == 0


def test_certificate_rules_change_eligibility_and_the_outcome() -> None:
    world = sizes_day()
    world.drop_certificates("mid", CertificateType.quarantine_report)
    problem = world.problem()
    assert check_eligibility(problem).reason("mid-pork", "c1") is Reason.quarantine_report_missing
    lenient = Rules(require_quarantine_report=False).problem(problem)
    assert check_eligibility(lenient).eligible("mid-pork", "c1")
    pork = next(c for c in lenient.categories if c.category_id == "pork")
    assert pork.required_certificates == (CertificateType.food_licence,)

    strict = Rules(require_verified_certificates=True).problem(problem)
    assert strict.certificates == ()  # the fixture's certificates are all unverified
    assert check_eligibility(strict).reason("large-veg", "c1") is Reason.supply_permit_invalid
    got = outcomes(world, "fairness_cap_pct=50", "lenient: require_quarantine_report=false")
    assert volumes(got[BASELINE]) == (40, 0, 80)
    assert volumes(got["fairness_cap_pct=50"]) == (30, 0, 90)  # mid may not sell pork
    assert volumes(got["lenient"]) == (40, 0, 80)  # mid may, but is dearer
    assert got["lenient"].changes == "require_quarantine_report=false"
    capped = outcomes(world, "both: require_quarantine_report=false, fairness_cap_pct=50")
    assert volumes(capped["both"]) == (30, 30, 60)
    nothing = outcomes(world, "require_verified_certificates=true")
    assert nothing["require_verified_certificates=true"].served_units == 0
    assert nothing["require_verified_certificates=true"].compounds_at_zero == 2


def test_pooling_adds_what_the_minimum_order_kept_out() -> None:
    result = run_whatif(tiny_day(), [parse_scenario("pooling_distance_m=1500", Rules())], FAST)
    base, pooled = result.outcomes
    assert (base.compounds_at_zero, base.pooled_units, base.pools) == (2, 0, 0)
    assert (pooled.pooled_units, pooled.pools, pooled.compounds_at_zero) == (12, 1, 0)
    assert pooled.served_units == base.served_units + 12
    assert pooled.priority_served_units == base.priority_served_units + 1
    assert pooled.units_of(SizeClass.large) == base.units_of(SizeClass.large) + 12
    assert pooled.deliveries == base.deliveries + 2  # one stop at each pooled compound
    assert pooled.cost_cents == base.cost_cents + 12 * 1000


def test_scenarios_parse_and_bad_ones_name_the_field() -> None:
    base = Rules()
    named = parse_scenario("tight: max_suppliers_per_compound=2, fairness_cap_pct=30", base)
    assert named.name == "tight"
    assert (named.rules.max_suppliers_per_compound, named.rules.fairness_cap_pct) == (2, 30)
    assert parse_scenario("fairness_cap_pct=none", Rules(fairness_cap_pct=20)).rules == base
    assert parse_scenario("pooling_drop=shared,pooling_distance_m=800", base).rules.pooling() == (
        parse_scenario("pooling_distance_m=800,pooling_drop=shared", base).rules.pooling()
    )
    with pytest.raises(ValueError, match="unknown rule fairness_cap; use one of"):
        parse_scenario("fairness_cap=30", base)
    with pytest.raises(ValueError, match="fairness_cap_pct: Input should be less than or equal"):
        parse_scenario("fairness_cap_pct=300", base)
    with pytest.raises(ValueError, match="is not key=value"):
        parse_scenario("fairness_cap_pct", base)
    with pytest.raises(ValueError, match="scenario names repeat: baseline"):
        run_whatif(sizes_day().problem(), [parse_scenario("baseline: fairness_cap_pct=9", base)])


def test_scenarios_load_from_yaml() -> None:
    scenarios = load_scenarios(WHATIF / "scenarios.yaml", Rules())
    assert [s.name for s in scenarios] == [
        "one supplier per compound",
        "fair share 50 %",
        "pool within 1.5 km",
    ]
    assert scenarios[2].rules.pooling_drop is PoolDrop.shared
    assert scenarios[2].rules.pooling_distance_m == 1500


def test_the_cli_fixture_is_the_builders_problem() -> None:
    text = (WHATIF / "tiny_day.json").read_text(encoding="utf-8")
    assert Problem.model_validate_json(text) == tiny_day()


def test_cli_compares_scenarios_and_writes_csv_and_json(tmp_path: Path) -> None:
    out = tmp_path / "whatif.csv"
    args = ["whatif", "--problem", str(WHATIF / "tiny_day.json"), "--time-limit", "2"]
    result = runner.invoke(
        app, [*args, "--scenarios", str(WHATIF / "scenarios.yaml"), "--csv", str(out)]
    )
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())
    assert "what-if on 2022-04-12" in printed
    assert "small suppliers' units" in printed
    assert "one supplier per compound" in printed
    with out.open(encoding="utf-8") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    assert list(rows) == [
        BASELINE,
        "one supplier per compound",
        "fair share 50 %",
        "pool within 1.5 km",
    ]
    assert rows[BASELINE]["small_supplier_units"] == "40"
    assert rows["one supplier per compound"]["small_supplier_units"] == "0"
    assert rows["pool within 1.5 km"]["pooled_units"] == "12"
    assert rows["pool within 1.5 km"]["compounds_at_zero"] == "0"
    assert rows["pool within 1.5 km"]["rule_pooling_drop"] == "shared"

    as_json = runner.invoke(app, [*args, "--scenario", "fairness_cap_pct=50", "--json"])
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.output)
    assert [o["name"] for o in document["outcomes"]] == [BASELINE, "fairness_cap_pct=50"]
    assert document["outcomes"][1]["medium_supplier_units"] == 30


def test_cli_rejects_a_bad_scenario_naming_the_rule() -> None:
    result = runner.invoke(
        app, ["whatif", "--problem", str(WHATIF / "tiny_day.json"), "--scenario", "max_supp=2"]
    )
    assert result.exit_code == 2
    assert "unknown rule max_supp" in " ".join(result.output.split())
