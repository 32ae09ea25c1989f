"""The dispatcher's page: demand of the service area as a table and on the map, the current
plan with the checker's verdict, a match job submitted and followed, and route sheets."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.conftest import open_page, screenshot, sign_in


def test_dispatcher_sees_demand_plan_status_and_route_sheets(
    page: Page, web_url: str, leaflet: None
) -> None:
    sign_in(page, web_url, "dispatcher", "dispatcher")
    open_page(page, web_url, "dispatcher")
    demand = page.locator("#demand table")
    expect(demand).to_contain_text("花木小区")
    expect(demand).to_contain_text("塘桥新村")
    assert "王阿姨" not in demand.inner_text()  # totals only, never households
    plans = page.locator("#plans table")
    expect(plans.locator("tbody tr")).to_have_count(1)
    expect(plans.locator("tbody tr td").last).to_have_text("✓")
    sheet = page.locator("#sheets article")
    expect(sheet).to_have_count(1)
    expect(sheet).to_contain_text("沪A12345")
    expect(sheet.locator("tbody tr")).to_have_count(2)
    expect(page.locator("#map")).to_have_attribute("data-demand", "2")  # both compounds
    expect(page.locator("#map")).to_have_attribute("data-routes", "1")
    expect(page.locator("#map canvas").first).to_be_visible()

    page.get_by_role("button", name="请求匹配").click()
    expect(page.locator("#job-progress")).to_contain_text("完成", timeout=60_000)
    expect(page.locator("#jobs table")).to_contain_text("match")
    screenshot(page, "dispatcher-after-match")
