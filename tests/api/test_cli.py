"""The `linli` command line: the demo day end to end, imports with errors, demand queries."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import EXIT_DATA_ERROR, app
from data.demo import FOCUS_COMPOUND_ID
from data.store import Store
from matcher.result import Allocation
from routing.result import Plan

LOAD = Path(__file__).resolve().parents[1] / "instances" / "load"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    """Run `linli args...`, returning the exit code and everything printed.

    Whitespace runs are collapsed to one space, so rich's wrapping at the console width
    (which depends on the length of the checkout's path) cannot split an asserted phrase.
    """
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding the whole demo day, made once by `linli demo`."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    code, output = invoke(
        "demo",
        "--db",
        str(db),
        "--time-limit",
        "5",
        "--route-time-limit",
        "5",
        "--out",
        str(db.parent / "out"),
    )
    assert code == 0, output
    return db


def test_demo_runs_the_day_and_prints_the_demand_summary(demo_db: Path) -> None:
    store = Store.open(f"sqlite:///{demo_db}")
    counts = store.counts()
    assert counts["compound"] == 334
    assert len(store.buildings(FOCUS_COMPOUND_ID)) == 28
    focus_orders = store.orders(FOCUS_COMPOUND_ID)
    assert len(focus_orders) == 393 + 19  # the CSV plus the pasted 接龙 list
    assert any(order.order_id.startswith("jl-") for order in focus_orders)
    assert counts["household_order"] > 50_000  # synthetic orders for the other compounds
    lines = store.order_lines().collect()
    assert lines["quantity_units"].sum() > 100_000


def test_demo_output_names_the_stages(tmp_path: Path) -> None:
    code, output = invoke(
        "demo",
        "--db",
        str(tmp_path / "d.db"),
        "--time-limit",
        "5",
        "--route-time-limit",
        "5",
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 0, output
    assert "compounds: 334" in output
    assert "allocation on 2022-04-15 by category" in output
    assert "priority served" in output
    assert "demand on 2022-04-15 by category" in output
    assert f"focus compound {FOCUS_COMPOUND_ID}: 28 buildings" in output
    assert "routes (" in output and "independent checker" in output
    assert (tmp_path / "out" / "plan.json").is_file()
    assert "printed" in output and "PDF," in output and "HTML and 1 PNG files" in output
    assert "pickup points for" in output and "optimal" in output
    assert (tmp_path / "out" / "pickup_points.json").is_file()
    assert "pooled group 拼团" in output and "formed, now matched" in output
    assert "leader's notice: 原团未成团" in output and "moved with their sign-up lines" in output
    assert "filed → accepted → closed" in output and "(balanced); group settled" in output
    assert "日报】" in output and "daily report for 2022-04-15" in output


def test_demand_table_and_csv(demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "demand.csv"
    code, output = invoke(
        "demand", "--db", str(demo_db), "--compound", FOCUS_COMPOUND_ID, "--csv", str(out)
    )
    assert code == 0, output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {row["compound_id"] for row in rows} == {FOCUS_COMPOUND_ID}
    assert "household_key" not in rows[0] and "room" not in rows[0]
    by_building = tmp_path / "by_building.csv"
    code, _ = invoke(
        "demand",
        "--db",
        str(demo_db),
        "--by",
        "building",
        "--category",
        "meat",
        "--compound",
        FOCUS_COMPOUND_ID,
        "--csv",
        str(by_building),
    )
    assert code == 0
    with by_building.open(encoding="utf-8") as handle:
        building_rows = list(csv.DictReader(handle))
    meat_total = next(int(r["quantity_units"]) for r in rows if r["category_id"] == "meat")
    assert sum(int(r["quantity_units"]) for r in building_rows) == meat_total


def test_import_rejects_a_bad_file_whole_and_names_row_and_field(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    code, output = invoke(
        "import", "compounds", str(LOAD / "compounds_wrong_type.csv"), "--db", str(db)
    )
    assert code == EXIT_DATA_ERROR
    assert "compounds_wrong_type.csv, row 2, field 'households'" in output
    assert "row 5" in output  # every bad row is listed, not only the first
    assert Store.open(f"sqlite:///{db}").counts()["compound"] == 0


def test_import_is_idempotent(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    for kind, name in (
        ("compounds", "compounds_ok.csv"),
        ("buildings", "buildings_ok.csv"),
        ("categories", "categories.yaml"),
    ):
        code, output = invoke("import", kind, str(LOAD / name), "--db", db)
        assert code == 0, output
    code, first = invoke("import", "orders", str(LOAD / "orders_ok.csv"), "--db", db)
    assert code == 0, first
    before = Store.open(f"sqlite:///{db}").counts()
    code, again = invoke("import", "orders", str(LOAD / "orders_ok.csv"), "--db", db)
    assert code == 0, again
    assert "0 inserted" in again
    assert Store.open(f"sqlite:///{db}").counts() == before


def test_match_with_flow_start_serves_more_of_the_demo_day(demo_db: Path, tmp_path: Path) -> None:
    units = {}
    for flow_start in ("--no-flow-start", "--flow-start"):
        saved = tmp_path / f"{flow_start}.json"
        args = ["match", "--db", str(demo_db), "--date", "2022-04-15", "--time-limit", "5"]
        code, output = invoke(*args, flow_start, "--save", str(saved))
        assert code == 0, output
        allocation = Allocation.model_validate_json(saved.read_text(encoding="utf-8"))
        units[flow_start] = sum(line.quantity_units for line in allocation.lines)
    assert units["--flow-start"] > 1.2 * units["--no-flow-start"], units


def test_match_with_candidate_suppliers_keeps_to_the_nearest(demo_db: Path, tmp_path: Path) -> None:
    saved = tmp_path / "candidates.json"
    args = ["match", "--db", str(demo_db), "--date", "2022-04-15", "--time-limit", "5"]
    code, output = invoke(*args, "--candidate-suppliers", "4", "--save", str(saved))
    assert code == 0, output
    allocation = Allocation.model_validate_json(saved.read_text(encoding="utf-8"))
    assert "candidate_suppliers" in allocation.message
    # per compound at most its 4 nearest suppliers and the 2 nearest of each category
    served = sum(line.quantity_units for line in allocation.lines)
    assert served > 0
    assert served + sum(u.quantity_units for u in allocation.unmet) == sum(
        row.quantity_units for row in allocation.demand
    )


def test_match_on_the_highs_back_end(demo_db: Path, tmp_path: Path) -> None:
    saved = tmp_path / "highs.json"
    args = ["match", "--db", str(demo_db), "--date", "2022-04-15", "--time-limit", "5"]
    code, output = invoke(*args, "--solver", "highs", "--save", str(saved))
    assert code == 0, output
    assert "solver highs" in output
    allocation = Allocation.model_validate_json(saved.read_text(encoding="utf-8"))
    assert allocation.solver == "highs"
    served = sum(line.quantity_units for line in allocation.lines)
    assert served > 0
    assert served + sum(u.quantity_units for u in allocation.unmet) == sum(
        row.quantity_units for row in allocation.demand
    )
    code, output = invoke(*args, "--solver", "gurobi")
    assert code == 2 and "gurobi" in output


def test_match_saves_an_allocation_that_route_plans(demo_db: Path, tmp_path: Path) -> None:
    saved = tmp_path / "allocation.json"
    code, output = invoke(
        "match",
        "--db",
        str(demo_db),
        "--date",
        "2022-04-15",
        "--time-limit",
        "5",
        "--explain",
        FOCUS_COMPOUND_ID,
        "--save",
        str(saved),
    )
    assert code == 0, output
    assert "served" in output and "unmet by reason" in output
    assert "蔬菜" in output or "vegetables" in output  # the focus compound's explanations
    allocation = Allocation.model_validate_json(saved.read_text(encoding="utf-8"))
    served: Counter[tuple[str, str]] = Counter()
    for line in allocation.lines:
        served[line.compound_id, line.category_id] += line.quantity_units
    for item in allocation.unmet:
        served[item.compound_id, item.category_id] += item.quantity_units
    demand = {(d.compound_id, d.category_id): d.quantity_units for d in allocation.demand}
    assert demand and served == Counter(demand)

    out = tmp_path / "out"
    args = ["route", "--db", str(demo_db), "--date", "2022-04-15", "--allocation", str(saved)]
    code, output = invoke(*args, "--time-limit", "3", "--out", str(out))
    assert code == 0, output
    assert "independent checker: every route feasible" in output
    plan = Plan.model_validate_json((out / "plan.json").read_text(encoding="utf-8"))
    routed = sum(r.load_units for r in plan.routes) + sum(u.quantity_units for u in plan.unassigned)
    assert 0 < routed <= sum(line.quantity_units for line in allocation.lines)
    wrong_day = invoke(*args[:4], "2022-04-16", *args[5:])
    assert wrong_day[0] == EXIT_DATA_ERROR and "is for 2022-04-15" in wrong_day[1]


def test_plan_routes_the_day_and_writes_json(demo_db: Path, tmp_path: Path) -> None:
    code, output = invoke(
        "plan",
        "--db",
        str(demo_db),
        "--date",
        "2022-04-15",
        "--time-limit",
        "5",
        "--out",
        str(tmp_path),
    )
    assert code == 0, output
    assert "independent checker: every route feasible" in output
    plan = Plan.model_validate_json((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert plan.routes
    assert all(r.load_units > 0 and r.stops for r in plan.routes)
    assert "documents written to" in output
    assert sorted(p.stem for p in (tmp_path / "route_sheets").glob("*.json")) == sorted(
        r.vehicle_id for r in plan.routes
    )
    assert (tmp_path / "index.json").is_file() and any((tmp_path / "notices").rglob("*.json"))


def test_demo_writes_the_documents(demo_db: Path) -> None:
    from routing.sheets import (
        DocumentIndex,
        LeaderSortingList,
        PickupNotice,
        RouteSheet,
        SortingList,
    )

    out = demo_db.parent / "out"
    index = DocumentIndex.model_validate_json((out / "index.json").read_text(encoding="utf-8"))
    plan = Plan.model_validate_json((out / "plan.json").read_text(encoding="utf-8"))
    routes = sorted(plan.routes, key=lambda r: r.vehicle_id)
    sheets = [
        RouteSheet.model_validate_json((out / name).read_text(encoding="utf-8"))
        for name in index.route_sheets
    ]
    assert [s.vehicle_id for s in sheets] == [r.vehicle_id for r in routes]
    assert [sum(stop.units for stop in s.stops) for s in sheets] == [r.load_units for r in routes]
    assert [s.stops[0].arrival for s in sheets] == [r.stops[0].arrival for r in routes]
    delivered: Counter[tuple[str, str]] = Counter()
    for route in routes:
        for stop in route.stops:
            delivered[stop.compound_id, stop.category_id] += stop.quantity_units
    compounds = sorted({compound_id for compound_id, _ in delivered})
    assert index.sorting_lists == tuple(f"sorting_lists/{c}.json" for c in compounds)
    assert len(index.leader_sorting_lists) == len(compounds) and index.pickup_notices
    public = [(out / name).read_text(encoding="utf-8") for name in index.route_sheets]
    for name in index.sorting_lists:
        text = (out / name).read_text(encoding="utf-8")
        public.append(text)
        sorting = SortingList.model_validate_json(text)
        for total in sorting.categories:
            category_id = total.category.category_id
            assert total.delivered_units == delivered[sorting.compound_id, category_id]
            to_buildings = sum(
                line.units
                for building in sorting.buildings
                for line in building.lines
                if line.category_id == category_id
            )
            assert to_buildings + total.unsorted_units == total.delivered_units
    for name in index.pickup_notices:
        text = (out / name).read_text(encoding="utf-8")
        public.append(text)
        notice = PickupNotice.model_validate_json(text)
        assert notice.slot_start < notice.slot_end and notice.message_zh.startswith("【")
    assert not any(key in text for text in public for key in ('"room"', '"phone"', '"household'))
    leader = LeaderSortingList.model_validate_json(
        (out / index.leader_sorting_lists[0]).read_text(encoding="utf-8")
    )
    assert leader.households and leader.sorting_list.compound_id == compounds[0]


def test_demo_runs_the_group_buy_day(demo_db: Path) -> None:
    """`linli demo` stores a pooled group that formed, a failed group and its re-matched
    successor holding the moved lines, a settled claim with its refund in the ledger, and
    writes the daily reports that show them."""
    from sqlalchemy import select

    from api.group_store import (
        GROUP_COMPOUNDS,
        GROUPS,
        PAYMENTS,
        SIGNUPS,
        group_balance,
        load_group,
    )
    from data.tables import ClaimRow, table_of
    from matcher.claims import Claim, ClaimState
    from matcher.groups import GroupState

    store = Store.open(f"sqlite:///{demo_db}")
    with store.engine.connect() as conn:
        ids = list(conn.execute(select(GROUPS.c.group_id).order_by(GROUPS.c.group_id)).scalars())
        groups = {g: load_group(conn, group_id=g) for g in ids}
        pooled = [s for s in groups.values() if s is not None and len(s.leaders) >= 2]
        assert len(pooled) == 1
        pool = pooled[0]
        assert pool.group.state is GroupState.matched
        assert [t.to_state for t in pool.group.history][-2:] == ["formed", "matched"]
        assert all(leader == f"leader.{c}" for c, leader in pool.leaders.items())
        lines = conn.execute(
            select(SIGNUPS.c.compound_id, SIGNUPS.c.quantity_units, SIGNUPS.c.source).where(
                SIGNUPS.c.group_id == pool.group_id
            )
        ).all()
        assert {c for c, _, _ in lines} == set(pool.leaders)
        assert {source for _, _, source in lines} == {"synthetic"}
        units = sum(q for _, q, _ in lines)
        assert units == pool.group.committed_units >= pool.group.threshold_units
        assert all(q < pool.group.threshold_units for c in pool.leaders
                   for q in [sum(u for d, u, _ in lines if d == c)])  # fmt: skip

        failed = [
            s for s in groups.values() if s is not None and s.group.state is GroupState.failed
        ]
        assert len(failed) == 1
        successor = next(
            s
            for s in groups.values()
            if s is not None and s.group.rematched_from == failed[0].group_id
        )
        assert successor.group.state is GroupState.matched
        assert successor.group.supplier_id != failed[0].group.supplier_id
        assert successor.group.committed_units == failed[0].group.committed_units
        moved = conn.execute(
            select(SIGNUPS.c.group_id, SIGNUPS.c.quantity_units).where(
                SIGNUPS.c.group_id.in_([failed[0].group_id, successor.group_id])
            )
        ).all()
        assert {g for g, _ in moved} == {successor.group_id}
        assert sum(q for _, q in moved) == successor.group.committed_units

        (claim,) = [
            Claim.model_validate(d)
            for d in conn.execute(select(table_of(ClaimRow).c.data)).scalars()
        ]
        assert claim.state is ClaimState.closed and claim.resolution is not None
        assert [step.to_state for step in claim.history] == ["filed", "accepted", "closed"]
        refunds = conn.execute(
            select(PAYMENTS.c.kind, PAYMENTS.c.amount_cents).where(
                PAYMENTS.c.claim_id == claim.claim_id
            )
        ).all()
        assert refunds == [("refund", claim.amount_cents)] and claim.amount_cents > 0
        settled = groups[claim.group_id]
        assert settled is not None and settled.group.state is GroupState.settled
        offer = next(o for o in store.supply().offers if o.offer_id == settled.group.offer_id)
        balance = group_balance(conn, settled, offer.unit_price_cents)
        assert (
            balance.balanced
            and balance.credits_cents == balance.refunded_cents == claim.amount_cents
        )
        assert all(
            group_balance(
                conn,
                s,
                next(
                    o for o in store.supply().offers if o.offer_id == s.group.offer_id
                ).unit_price_cents,
            ).balanced
            for s in groups.values()
            if s is not None
        )
        pooled_rows = conn.execute(
            select(GROUP_COMPOUNDS.c.compound_id).where(GROUP_COMPOUNDS.c.group_id == pool.group_id)
        ).scalars()
        assert len(list(pooled_rows)) >= 2

    page = (demo_db.parent / "out" / "daily_report.html").read_text(encoding="utf-8")
    assert "拼团" in page and "未成团" in page and successor.group_id in page
    assert f"已处理 1 件,退款 ¥{claim.amount_cents / 100:,.2f}" in page
    assert "账目:全部平衡" in page and "Ledgers: all balanced." in page
    ledgers = {p.stem for p in (demo_db.parent / "out" / "ledgers").glob("*.html")}
    assert {pool.group_id, claim.group_id, successor.group_id} <= ledgers


def test_demo_prints_every_document_type_as_pdf_and_html(demo_db: Path) -> None:
    """Each kind of document of the demo day, as PDF and HTML: the Chinese put in comes out
    of the PDF's text layer, pages are counted, and the household lines stay in the
    leader's list only."""
    from matcher.ledger import Ledger
    from routing.sheets import DocumentIndex, LeaderSortingList, PickupNotice, RouteSheet
    from tests.render.conftest import need_cjk_font, page_count, pdf_text

    need_cjk_font()
    out = demo_db.parent / "out"
    index = DocumentIndex.model_validate_json((out / "index.json").read_text(encoding="utf-8"))

    def printed(json_name: str) -> tuple[str, str, int]:
        """(PDF text, HTML text, PDF pages) of the document written as ``json_name``."""
        stem = out / json_name.removesuffix(".json")
        pdf, html = stem.with_suffix(".pdf"), stem.with_suffix(".html")
        assert pdf.is_file() and html.is_file(), f"{json_name} was not printed"
        text = " ".join(pdf_text(pdf).split())
        return text, html.read_text(encoding="utf-8"), page_count(pdf)

    sheet = RouteSheet.model_validate_json((out / index.route_sheets[0]).read_text("utf-8"))
    text, html, pages = printed(index.route_sheets[0])
    wanted = ["配送路线单", sheet.plate, sheet.depot_name, sheet.stops[0].compound_name]
    assert all(w in text and w in html for w in wanted) and pages >= 1
    assert f'href="geo:{sheet.stops[0].gate_lat},{sheet.stops[0].gate_lon}"' in html
    assert all(name.startswith("route_sheets/") for name in index.route_sheets)
    assert len(list((out / "route_sheets").glob("*.pdf"))) == len(index.route_sheets)

    focus = f"sorting_lists/{FOCUS_COMPOUND_ID}.json"
    leader = LeaderSortingList.model_validate_json(
        (out / f"sorting_lists_leader/{FOCUS_COMPOUND_ID}.json").read_text("utf-8")
    )
    name = leader.sorting_list.compound_name
    household = leader.households[0].household_name
    text, html, pages = printed(focus)
    assert "分拣单" in text and name in text and name in html and pages >= 1
    assert household not in text and household not in html
    text, html, pages = printed(f"sorting_lists_leader/{FOCUS_COMPOUND_ID}.json")
    assert "仅限团长" in text and household in text and household in html and pages >= 2

    notice_name = next(n for n in index.pickup_notices if FOCUS_COMPOUND_ID in n)
    notice = PickupNotice.model_validate_json((out / notice_name).read_text("utf-8"))
    text, html, pages = printed(notice_name)
    if notice.door_delivery:  # the focus compound is sealed (封控): volunteers come to the door
        assert "送货上门通知" in text and "取货地点" not in text
    else:
        assert "取货通知" in text and notice.pickup_point in text
    assert notice.building_name in html
    assert pages == 1

    # the demo's group scene prints other compounds' ledgers too: take the focus compound's
    ledgers = [
        path
        for path in sorted((out / "ledgers").glob("*.pdf"))
        if name in path.with_suffix(".html").read_text(encoding="utf-8")
    ]
    assert ledgers, "the focus compound's groups have no ledger"
    text = " ".join(pdf_text(ledgers[0]).split())
    html = ledgers[0].with_suffix(".html").read_text(encoding="utf-8")
    assert "团购账本" in text and "团长佣金" in text and name in text
    assert page_count(ledgers[0]) == 1
    assert not any(key in html for key in ("room", household))
    assert Ledger.model_fields["leader_commission_cents"].default == 0

    from PIL import Image

    with Image.open(out / "plan_map.png") as picture:
        assert picture.width > 1000
        assert len(set(picture.convert("RGB").get_flattened_data())) > 20
    overview = " ".join(pdf_text(out / "plan_overview.pdf").split())
    assert "配送计划总览" in overview and sheet.plate in overview
    assert page_count(out / "plan_overview.pdf") >= 1
