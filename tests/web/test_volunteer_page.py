"""The building volunteer's page: today's hand-out sheet of their own building (rooms,
packages, door delivery marked; no names, phones or priority reasons) and the three steps
received → disinfected → handed out, recorded in order (a step out of turn shows the API's
refusal). axe-core finds no serious or critical violation, in Chinese and English. On SQLite
and PostgreSQL, with the groups of tests/web/test_resident_page.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.api.conftest import api_url as api_url  # the seeded database, per backend
from tests.web.conftest import DAY, open_page, screenshot, sign_in
from tests.web.test_resident_page import DONE_GROUP, VOLUNTEER, call_api, group_server, serious


@pytest.fixture(scope="module")
def volunteer_web(api_url: str) -> Iterator[str]:
    """The server on the module's seeded database (SQLite or PostgreSQL)."""
    with group_server(api_url) as root:
        yield root


def test_the_volunteer_records_the_three_steps_in_order(page: Page, volunteer_web: str) -> None:
    sign_in(page, volunteer_web, VOLUNTEER, "volunteer")
    open_page(page, volunteer_web, "volunteer")
    sheet = page.locator("#sheet")
    expect(sheet.locator("h2").first).to_have_text("3号楼 · 花木小区")
    row = sheet.locator("tbody tr", has_text="502")
    expect(row).to_contain_text("送货上门")  # a proxy line, and an elderly one
    inner = sheet.inner_html()
    assert [
        w for w in ("王阿姨", "13800138000", "1101", "孕", "pregnant", "elderly") if w in inner
    ] == []

    delivery = sheet.locator(f"article.delivery[data-delivery='{DONE_GROUP}']")
    status = delivery.locator(".step-status")
    expect(delivery.locator(".step-progress")).to_have_text("进度 0/3，下一步：接收")
    delivery.get_by_role("button", name="已派发").click()
    expect(status).to_contain_text("请按顺序记录")
    expect(status).to_contain_text("record received first")

    delivery.get_by_role("button", name="已接收").click()
    expect(status).to_have_text("接收: 已记录")
    expect(delivery.locator(".step-progress")).to_have_text("进度 1/3，下一步：消杀")
    expect(delivery.get_by_role("button", name="已接收")).to_be_disabled()
    expect(delivery.get_by_role("button", name="已消杀")).to_be_focused()
    delivery.get_by_role("button", name="已消杀").click()
    expect(delivery.locator(".step-progress")).to_have_text("进度 2/3，下一步：派发")
    delivery.get_by_role("button", name="已派发").click()
    expect(delivery.locator(".step-progress")).to_have_text("已全部派发")
    expect(delivery.locator("button:enabled")).to_have_count(0)
    other = sheet.locator("article.delivery[data-delivery='']")
    expect(other.locator(".step-progress")).to_have_text("进度 0/3，下一步：接收")
    screenshot(page, "volunteer")

    sheet_path = f"/compounds/c-huamu/buildings/c-huamu-b03/handout?date={DAY}"
    stored = call_api(volunteer_web, "GET", sheet_path, VOLUNTEER)
    (done,) = [d for d in stored["deliveries"] if d["delivery_key"] == DONE_GROUP]
    assert [s["step"] for s in done["steps"]] == ["received", "disinfected", "handed_out"]
    assert {s["recorded_by"] for s in done["steps"]} == {VOLUNTEER}
    assert done["next_step"] is None


def test_the_volunteer_page_is_accessible_and_works_in_english(
    page: Page, volunteer_web: str, axe_source: str
) -> None:
    sign_in(page, volunteer_web, VOLUNTEER, "volunteer")
    open_page(page, volunteer_web, "volunteer")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert serious(page, axe_source) == []
    open_page(page, volunteer_web, "volunteer", lang="en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Building hand-out")
    rows = page.locator("#sheet tbody tr", has_text="502")
    expect(rows.first).to_contain_text("to the door")
    expect(
        page.locator("#sheet article.delivery").first.get_by_role("button", name="Received")
    ).to_be_visible()
    assert serious(page, axe_source) == []
    screenshot(page, "volunteer-en")
