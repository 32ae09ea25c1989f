"""The leader's page: paste 接龙 text, see the demand grow, request a match and read its
explanation, open the sorting list (leader version) and the pickup notices; group countdowns."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.web.conftest import open_page, screenshot, sign_in, token

PASTE = "#接龙 4月15日\n1. 5号楼 1202 蔬菜套餐x2 (老人)\n2. 12号楼 402 鸡蛋30枚x1\n"


def _total_units(page: Page) -> str:
    """The total cell of the demand table."""
    row = page.locator("#demand tbody tr").last
    return row.locator("td").nth(2).inner_text()


def test_leader_imports_jielong_requests_a_match_and_opens_the_sorting_list(
    page: Page, web_url: str
) -> None:
    sign_in(page, web_url, "leader", "leader")
    open_page(page, web_url, "leader")
    expect(page.locator("#demand table")).to_contain_text("c-huamu-b05")
    before = int(_total_units(page))

    page.get_by_label("接龙文本").fill(PASTE)
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator("#import-result")).to_contain_text("已导入 2 户")
    expect(page.locator("#demand tbody tr").last.locator("td").nth(2)).to_have_text(str(before + 3))

    page.get_by_role("button", name="请求匹配").click()
    expect(page.locator("#match-job")).to_contain_text("完成", timeout=60_000)
    expect(page.locator("#allocation table").first).to_contain_text("sup-a")
    expect(page.locator("#allocation .headline").first).not_to_be_empty()

    page.get_by_role("button", name="打开分拣单").click()
    sorting = page.locator("#sorting")
    expect(sorting).to_contain_text("住户明细")
    expect(sorting).to_contain_text("王阿姨")  # the leader's own households, by name

    page.get_by_role("button", name="生成取货通知").click()
    expect(page.locator("#notices article.notice").first).to_contain_text("取货时间")
    expect(page.locator("#window table")).to_contain_text("沪A12345")
    screenshot(page, "leader")


def test_group_countdown_runs_to_the_deadline(page: Page, web_url: str) -> None:
    with httpx.Client(base_url=web_url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {token(client, 'leader')}"}
        opened = client.post(
            "/compounds/c-huamu/groups",
            headers=headers,
            json={
                "offer_id": "off-a-veg",
                "deadline": "2022-04-14T20:00:00+08:00",
                "threshold_units": 10,
                "allocated_units": 20,
                "opened_at": "2022-04-13T08:00:00+08:00",
            },
        )
        assert opened.status_code == 201, opened.text
    page.clock.set_fixed_time("2022-04-13T17:29:30+08:00")
    sign_in(page, web_url, "leader", "leader")
    open_page(page, web_url, "leader")
    groups = page.locator("#groups table")
    expect(groups).to_contain_text("10")
    expect(groups.locator(".countdown").first).to_have_text("1天02:30:30")
    page.clock.set_fixed_time("2022-04-15T08:00:00+08:00")
    expect(groups.locator(".countdown").first).to_have_text("已截止")
