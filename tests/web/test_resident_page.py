"""The resident pages, no sign-in: join a group at its link and get the household's code,
open the household's own page (and nothing of any other household), claim on a delivered
line and appeal the supplier's rejection; roster errors next to their field in Chinese and
English; axe-core finds no serious or critical violation. On SQLite and PostgreSQL.

The groups are written straight into the store (as tests/api/test_http_claims.py does): an
open group whose deadline is in three days (the API would refuse a deadline after the test
offer's 2022 delivery date, and sign-ups are taken until the real clock passes it) and a
delivered group with two household lines.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, insert

from api.accounts import add_user
from api.main import create_app
from api.security import Role
from data.schemas import SHANGHAI
from data.store import Store
from data.tables import GroupBuyRow, GroupCompoundRow, GroupSignupRow, table_of
from matcher.groups import Group, GroupState, Transition
from tests.api.conftest import PASSWORD, settings_for
from tests.api.conftest import api_url as api_url  # the seeded database, per backend
from tests.web.conftest import running, screenshot, token

OPEN_GROUP = "g-web-open"
OPEN_TOKEN = "tok-web-open-2kq7"
DONE_GROUP = "g-web-done"
MY_CODE = "wangcode23"
"""王阿姨's code: room 502 of 3号楼 in the delivered group."""
NEIGHBOUR_CODE = "zhaocode45"
"""赵先生's code: room 1101 of 5号楼 in the delivered group."""
VOLUNTEER = "vol_b03"
"""The volunteer of c-huamu's 3号楼 (c-huamu-b03)."""

AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}"""


def _transition(state: GroupState, at: dt.datetime) -> Transition:
    return Transition(from_state=None, to_state=state, at=at, note_zh="开团", note_en="opened")


def _group_row(group: Group, token_: str, at: dt.datetime) -> dict[str, Any]:
    return {
        "group_id": group.group_id,
        "compound_id": group.compound_id,
        "supplier_id": group.supplier_id,
        "offer_id": group.offer_id,
        "state": group.state.value,
        "public_token": token_,
        "data": group.model_dump(mode="json"),
        "created_by": "leader",
        "created_at": at,
        "updated_at": at,
    }


def _line(group_id: str, signup_id: str, building: str, room: str, name: str, phone: str,
          units: int, code: str, at: dt.datetime, *, proxy: bool = False,
          flags: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    return {
        "signup_id": signup_id,
        "group_id": group_id,
        "compound_id": "c-huamu",
        "building_id": building,
        "room": room,
        "household_name": name,
        "phone": phone,
        "priority_flags": list(flags),
        "proxy": proxy,
        "quantity_units": units,
        "state": "active",
        "source": "api",
        "resident_code": code,
        "created_by": "leader",
        "created_at": at,
        "updated_at": at,
    }


def add_groups(engine: Engine) -> None:
    """The open group (a neighbour, 钱奶奶 of 12号楼 1106, signed up already) and the
    delivered group on off-a-veg at c-huamu, both led by ``leader``."""
    now = dt.datetime.now(SHANGHAI).replace(microsecond=0)
    opened = Group(
        group_id=OPEN_GROUP,
        offer_id="off-a-veg",
        supplier_id="sup-a",
        compound_id="c-huamu",
        category_id="vegetables",
        threshold_units=10,
        allocated_units=40,
        committed_units=2,
        deadline=now + dt.timedelta(days=3),
        delivery_fee_cents=500,
        leader_commission_cents=300,
        history=(_transition(GroupState.open, now - dt.timedelta(hours=1)),),
    )
    start = dt.datetime(2022, 4, 14, 8, 0, tzinfo=SHANGHAI)
    done = Group(
        group_id=DONE_GROUP,
        offer_id="off-a-veg",
        supplier_id="sup-a",
        compound_id="c-huamu",
        category_id="vegetables",
        threshold_units=5,
        allocated_units=5,
        committed_units=5,
        deadline=start + dt.timedelta(hours=12),
        history=(_transition(GroupState.open, start),),
    )
    steps = ((GroupState.formed, 12), (GroupState.matched, 13), (GroupState.dispatched, 24),
             (GroupState.delivered, 27))  # fmt: skip
    for state, hours in steps:
        done = done.advance(state, start + dt.timedelta(hours=hours), note_zh="", note_en="")
    table = table_of(GroupCompoundRow)
    with engine.begin() as conn:
        conn.execute(
            insert(table_of(GroupBuyRow)),
            [_group_row(opened, OPEN_TOKEN, now), _group_row(done, "tok-web-done", start)],
        )
        conn.execute(
            insert(table),
            [
                {"group_id": g, "compound_id": "c-huamu", "position": 0, "leader": "leader",
                 "joined_at": start}
                for g in (OPEN_GROUP, DONE_GROUP)
            ],
        )  # fmt: skip
        conn.execute(
            insert(table_of(GroupSignupRow)),
            [
                _line(OPEN_GROUP, "s-web-qian", "c-huamu-b12", "1106", "钱奶奶", "13700001111",
                      2, "qiancode67", now, flags=("chronic_illness",)),
                _line(DONE_GROUP, "s-web-wang", "c-huamu-b03", "502", "王阿姨", "13800138000",
                      2, MY_CODE, start, proxy=True, flags=("pregnant",)),
                _line(DONE_GROUP, "s-web-zhao", "c-huamu-b05", "1101", "赵先生", "13800138001",
                      3, NEIGHBOUR_CODE, start),
            ],
        )  # fmt: skip


@contextmanager
def group_server(url: str) -> Iterator[str]:
    """A running server on the seeded database at ``url`` with the two groups and the
    volunteer of 3号楼; its base URL."""
    store = Store.open(url)
    try:
        add_groups(store.engine)
        add_user(store.engine, VOLUNTEER, PASSWORD, Role.volunteer, bound_to="c-huamu",
                 building_id="c-huamu-b03", by="test")  # fmt: skip
    finally:
        store.close()
    with running(create_app(settings_for(url))) as root:
        yield root


@pytest.fixture(scope="module")
def resident_web(api_url: str) -> Iterator[str]:
    """The server on the module's seeded database (SQLite or PostgreSQL)."""
    with group_server(api_url) as root:
        yield root


def open_resident(page: Page, base: str, path: str) -> None:
    """Open a resident page and wait until its script has loaded."""
    page.goto(f"{base}{path}")
    page.wait_for_selector("body[data-ready='1']")


def serious(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands."""
    page.add_script_tag(content=axe_source)
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def call_api(base: str, method: str, path: str, user: str | None = None, **kw: Any) -> Any:
    """One API call (as ``user`` when given); the parsed answer, asserting a 2xx status."""
    with httpx.Client(base_url=base, timeout=30) as client:
        headers = {"Authorization": f"Bearer {token(client, user)}"} if user else {}
        reply = client.request(method, path, headers=headers, **kw)
    assert reply.is_success, reply.text
    return reply.json()


def test_a_resident_joins_at_the_link_and_sees_only_their_own_line(
    page: Page, resident_web: str
) -> None:
    open_resident(page, resident_web, f"/web/join/{OPEN_TOKEN}")
    group = page.locator("#group")
    expect(group).to_contain_text("¥35.00")  # the unit price
    expect(group).to_contain_text("¥5.00")  # the declared delivery fee
    expect(group).to_contain_text("¥3.00")  # the declared commission
    expect(group).to_contain_text("10 份")  # the threshold
    expect(group).to_contain_text("接龙中")
    expect(group.locator(".countdown")).to_have_text(re.compile(r"^[23]天\d\d:\d\d:\d\d$"))
    expect(page.locator("nav")).to_have_count(0)  # no sign-in, no staff pages

    page.get_by_label("楼栋").select_option(label="3号楼")
    page.get_by_label("房号").fill("1203")
    page.get_by_label("姓名").fill("刘老师")
    page.get_by_label("电话").fill("13600002222")
    page.get_by_label("份数").fill("2")
    page.get_by_label("替邻居报名").check()
    page.get_by_label("家有老人").check()
    page.get_by_role("button", name="提交报名").click()

    receipt = page.locator("#receipt")
    expect(receipt).to_contain_text("报名成功")
    code = page.locator("#resident-code").inner_text()
    assert re.fullmatch(r"[2-9a-z]{10}", code)
    expect(page.locator("#signup-form")).to_be_hidden()
    expect(group).to_contain_text("4 份")  # committed: 2 before, 2 now
    screenshot(page, "join")

    roster = call_api(resident_web, "GET", f"/public/groups/{OPEN_TOKEN}/roster")
    assert [b["name"] for b in roster] == ["3号楼", "5号楼", "12号楼"]
    assert "钱奶奶" not in str(roster) and "1106" not in str(roster)
    lines = call_api(resident_web, "GET", f"/groups/{OPEN_GROUP}/signups", "leader")
    mine = next(line for line in lines if line["resident_code"] == code)
    assert (mine["building_id"], mine["room"], mine["quantity_units"]) == ("c-huamu-b03", "1203", 2)
    assert (mine["proxy"], mine["priority_flags"], mine["source"]) == (
        True,
        ["elderly"],
        "resident",
    )

    page.get_by_role("link", name="查看我的订单").click()
    page.wait_for_url(f"**/web/me/{code}")
    page.wait_for_selector("body[data-ready='1']")
    line = page.locator("#line")
    expect(line).to_contain_text("1203")
    expect(line).to_contain_text("刘老师")
    expect(line).to_contain_text("¥74.00")  # due: 2 × ¥35.00 + half of the ¥8.00 fees
    expect(page.locator("#payment-status")).to_have_text("未付款")
    expect(page.locator("#group-state")).to_have_text("接龙中")
    expect(page.locator("#claim-form")).to_be_hidden()
    expect(page.locator("#claim-unavailable")).to_contain_text("到货后")
    html = page.content()
    assert [w for w in ("钱奶奶", "13700001111", "1106", "王阿姨", "赵先生") if w in html] == []


def test_roster_errors_are_shown_next_to_the_field_in_both_languages(
    page: Page, resident_web: str
) -> None:
    before = call_api(resident_web, "GET", f"/public/ledger/{OPEN_TOKEN}")["committed_units"]
    open_resident(page, resident_web, f"/web/join/{OPEN_TOKEN}")
    page.get_by_label("房号").fill("502")
    page.get_by_role("button", name="提交报名").click()
    expect(page.locator("#building_id-error")).to_have_text("请从列表中选择你的楼栋。")

    page.get_by_label("楼栋").select_option(label="3号楼")
    page.get_by_label("房号").fill("9901")
    page.get_by_role("button", name="提交报名").click()
    error = page.locator("#room-error")
    expect(error).to_contain_text("房号不在本楼的名册上")
    expect(error.locator(".detail")).to_contain_text("floor 99 does not exist")
    expect(page.get_by_label("房号")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("房号")).to_be_focused()
    expect(page.locator("#receipt")).to_be_hidden()
    screenshot(page, "join-roster-error")

    open_resident(page, resident_web, f"/web/join/{OPEN_TOKEN}?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#group")).to_contain_text("Open for sign-ups")
    page.get_by_label("Building").select_option(label="3号楼")
    page.get_by_label("Room").fill("5O2")
    page.get_by_role("button", name="Sign up", exact=True).click()
    expect(page.locator("#room-error")).to_contain_text("not on the building's roster")
    expect(page.locator("#room-error .detail")).to_contain_text("not a floor and flat number")
    after = call_api(resident_web, "GET", f"/public/ledger/{OPEN_TOKEN}")["committed_units"]
    assert after == before  # nothing was signed up


def test_a_resident_claims_on_a_delivered_line_and_appeals_the_rejection(
    page: Page, resident_web: str
) -> None:
    open_resident(page, resident_web, f"/web/me/{MY_CODE}")
    expect(page.locator("#group-state")).to_have_text("已送达")
    expect(page.locator("#line")).to_contain_text("502")
    html = page.content()
    assert [w for w in ("赵先生", "1101", "13800138001", NEIGHBOUR_CODE) if w in html] == []

    form = page.locator("#claim-form")
    expect(form).to_be_visible()
    form.get_by_label("变质或破损").check()
    form.get_by_label("涉及份数").fill("3")  # the line has 2
    form.get_by_role("button", name="提交售后").click()
    expect(page.locator("#claim-units-error")).to_have_text("请填 1 到 2。")
    form.get_by_label("涉及份数").fill("1")
    form.get_by_label("说明").fill("青菜烂了一半")
    form.get_by_role("button", name="提交售后").click()
    claim = page.locator("#claims article.claim")
    expect(claim).to_have_count(1)
    expect(claim.locator("h3")).to_have_text("变质或破损 × 1")
    expect(claim.locator(".claim-state")).to_have_text("已提交")
    expect(claim).to_contain_text("供应商答复期限")
    expect(claim).to_contain_text("青菜烂了一半")
    screenshot(page, "me-claim")

    (filed,) = call_api(resident_web, "GET", f"/resident/{MY_CODE}/claims")
    assert (filed["kind"], filed["units"], filed["source"]) == ("spoiled", 1, "household")
    call_api(resident_web, "POST", f"/claims/{filed['claim_id']}/reject", "dispatcher",
         json={"reason": "照片看不出变质"})  # fmt: skip

    open_resident(page, resident_web, f"/web/me/{MY_CODE}?lang=en")
    claim = page.locator("#claims article.claim")
    expect(claim.locator(".claim-state")).to_have_text("Rejected")
    expect(claim).to_contain_text("照片看不出变质")
    claim.get_by_label("Why you appeal (optional)").fill("photos sent to the leader")
    claim.get_by_role("button", name="Appeal to the committee").click()
    expect(claim.locator(".claim-state")).to_have_text("With the committee")
    (appealed,) = call_api(resident_web, "GET", f"/resident/{MY_CODE}/claims")
    assert appealed["state"] == "escalated"
    assert appealed["history"][-1]["note"] == "photos sent to the leader"


def test_a_resident_opens_their_page_by_typing_the_code(page: Page, resident_web: str) -> None:
    open_resident(page, resident_web, "/web/me")
    page.get_by_label("查询码").fill(MY_CODE.upper())
    page.get_by_role("button", name="打开").click()
    page.wait_for_url(f"**/web/me/{MY_CODE}")
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#line")).to_contain_text("502")
    open_resident(page, resident_web, "/web/me/nosuchcode")
    expect(page.locator("#status")).to_have_text("查询码不正确，请向团长核对。")


@pytest.mark.parametrize(
    "path", [f"/web/join/{OPEN_TOKEN}", f"/web/me/{MY_CODE}", "/web/join", "/web/me"]
)
def test_resident_pages_have_no_serious_accessibility_violations(
    page: Page, resident_web: str, axe_source: str, path: str
) -> None:
    open_resident(page, resident_web, path)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("html")).to_have_class("large-text")  # large by default here
    assert serious(page, axe_source) == []
    name = path.strip("/").replace("/", "-")
    screenshot(page, name)
    page.get_by_role("link", name="Switch to English").click()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Join a group" if "join" in path else "My order"
    )
    assert serious(page, axe_source) == []
    screenshot(page, f"{name}-en")
