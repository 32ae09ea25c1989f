"""HTML documents and the group ledger: the same content as the PDFs, values escaped,
household data only in the leader's page, money and disclosure lines computed right."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from api.render.html import (
    leader_sorting_list_html,
    ledger_html,
    pickup_notice_html,
    route_sheet_html,
    sorting_list_html,
)
from api.render.ledger import amount_rows, history_rows, yuan
from api.render.pdf import write_printables
from data.schemas import SHANGHAI, Offer, ServiceArea
from matcher.groups import Group, GroupState, Transition
from matcher.ledger import ledger_of
from tests.routing.test_sheets import NAMES, PHONES, documents

OPENED = dt.datetime(2022, 4, 14, 12, tzinfo=SHANGHAI)


def group(committed: int, state: GroupState = GroupState.formed) -> Group:
    """A group of 20 units' threshold, formed at its deadline (or as ``state`` says)."""
    history = [Transition(from_state=None, to_state=GroupState.open, at=OPENED, note_zh="开团",
                          note_en="opened")]  # fmt: skip
    if state is not GroupState.open:
        history.append(
            Transition(from_state=GroupState.open, to_state=state,
                       at=OPENED + dt.timedelta(hours=8), note_zh="截止", note_en="closed")
        )  # fmt: skip
    return Group(
        group_id="g-1", offer_id="off-1", supplier_id="sup-1", compound_id="c1",
        category_id="veg", threshold_units=20, allocated_units=committed,
        committed_units=committed, deadline=OPENED + dt.timedelta(hours=8), state=state,
        history=tuple(history),
    )  # fmt: skip


def offer(list_price: int | None) -> Offer:
    return Offer(
        offer_id="off-1", supplier_id="sup-1", category_id="veg", capacity_units=500,
        unit_price_cents=2980, list_price_cents=list_price, min_order_units=20,
        package_name="蔬菜套餐 5 kg", case_size_units=1, delivery_date=dt.date(2022, 4, 15),
        service_area=ServiceArea(max_distance_m=10_000), depot_ids=("dep-1",),
    )  # fmt: skip


def test_ledger_amounts_saving_and_disclosed_fees() -> None:
    ledger = ledger_of(group(42), offer(3500), compound_name="阳光小区", supplier_name="绿源")
    assert (ledger.amount_cents, ledger.list_amount_cents, ledger.saving_cents) == (
        42 * 2980,
        42 * 3500,
        42 * (3500 - 2980),
    )
    rows = amount_rows(ledger)
    assert rows[1][1:] == ["¥1,251.60", "42 × ¥29.80"]
    assert rows[3][1] == "¥218.40"
    assert [row[1] for row in rows[4:]] == ["¥0.00", "¥0.00"]  # fee and commission, disclosed
    assert [row[1] for row in history_rows(ledger)[1:]] == ["— → 接龙中", "接龙中 → 已成团"]
    unlisted = ledger_of(group(42), offer(None), compound_name="阳光小区", supplier_name="绿源")
    assert unlisted.saving_cents is None and amount_rows(unlisted)[2][1:] == [
        "—",
        "供应商未公布标价",
    ]
    assert yuan(-5) == "-¥0.05"
    page = ledger_html(ledger)
    assert "¥1,251.60" in page and "团长佣金" in page and "已成团" in page


def test_html_pages_carry_the_documents_and_escape_values() -> None:
    docs = documents()
    sheet = docs.route_sheets[0]
    page = route_sheet_html(sheet)
    assert '<html lang="zh-CN">' in page and sheet.plate in page
    assert all(stop.compound_name in page for stop in sheet.stops)
    assert f'href="geo:{sheet.stops[0].gate_lat},{sheet.stops[0].gate_lon}"' in page
    public = [sorting_list_html(s) for s in docs.sorting_lists]
    public += [pickup_notice_html(n) for n in docs.pickup_notices]
    assert not any(name in text for text in public for name in (*NAMES, *PHONES))
    leader = leader_sorting_list_html(docs.leader_sorting_lists[0])
    households = docs.leader_sorting_lists[0].households
    assert all(h.household_name in leader and h.phone in leader for h in households)
    assert "仅限团长" in leader
    notice = docs.pickup_notices[0]
    hostile = notice.model_copy(update={"pickup_point": '<script>alert("x")</script>'})
    poster = pickup_notice_html(hostile)
    assert "<script>" not in poster and "&lt;script&gt;" in poster


def test_write_printables_scopes_compounds_and_clears_stale_files(tmp_path: Path) -> None:
    docs = documents()
    stale = tmp_path / "notices" / "gone" / "old.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("stale")
    compound = docs.sorting_lists[0].compound_id
    ledger = ledger_of(group(42), offer(3500), compound_name="阳光小区", supplier_name="绿源")
    done: list[int] = []
    printed = write_printables(
        docs, tmp_path, ledgers=[ledger], compounds={compound}, formats=("html",),
        progress=done.append,
    )  # fmt: skip
    assert printed.pdf == () and not stale.exists()
    wanted = {f"route_sheets/{s.vehicle_id}.html" for s in docs.route_sheets}
    wanted |= {f"sorting_lists/{compound}.html", f"sorting_lists_leader/{compound}.html"}
    wanted |= {
        f"notices/{compound}/{n.building_id}.html"
        for n in docs.pickup_notices
        if n.compound_id == compound
    }
    wanted.add("ledgers/g-1.html")
    assert set(printed.html) == wanted
    assert done == list(range(1, len(wanted) + 1))
    assert all((tmp_path / name).is_file() for name in wanted)
