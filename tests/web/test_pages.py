"""Every page: axe-core finds no serious or critical violation (Chinese and English), every
control is reached with the Tab key, large-text mode sticks, the map draws the layers and the
routes (and says why when Leaflet is missing); each page's screenshot is saved."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from api.web import pages
from tests.web.conftest import open_page, screenshot, sign_in

PAGES = (
    ("login", None, None),
    ("driver", "driver", "driver"),
    ("leader", "leader", "leader"),
    ("dispatcher", "dispatcher", "dispatcher"),
    ("map", "dispatcher", "dispatcher"),
)
"""(page, user who opens it, page the user lands on after signing in)."""

AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}"""


def _open(page: Page, web_url: str, slug: str, user: str | None, landing: str | None) -> None:
    """Open ``slug`` for the test day, signed in as ``user`` where the page needs one."""
    if user is None:
        page.goto(f"{web_url}/web/{slug}")
        return
    assert landing is not None
    sign_in(page, web_url, user, landing)
    open_page(page, web_url, slug)


def _serious(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands."""
    page.add_script_tag(content=axe_source)
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize(("slug", "user", "landing"), PAGES, ids=[p[0] for p in PAGES])
def test_page_has_no_serious_accessibility_violations(
    page: Page,
    web_url: str,
    axe_source: str,
    leaflet: None,
    slug: str,
    user: str | None,
    landing: str | None,
) -> None:
    _open(page, web_url, slug, user, landing)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    if slug == "leader":  # the documents too, as they show after a click
        page.get_by_role("button", name="打开分拣单").click()
        expect(page.locator("#sorting table").first).to_be_visible()
        page.get_by_role("button", name="生成取货通知").click()
        expect(page.locator("#notices article").first).to_be_visible()
    assert _serious(page, axe_source) == []
    screenshot(page, slug)

    page.get_by_role("link", name="Switch to English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    if user is not None:
        page.wait_for_selector("body[data-ready='1']")
    assert _serious(page, axe_source) == []
    screenshot(page, f"{slug}-en")


def test_language_choice_is_remembered_across_pages(page: Page, web_url: str) -> None:
    page.goto(f"{web_url}/web/login?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto(f"{web_url}/web/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="切换到中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")


def test_large_text_mode_is_a_switch_that_sticks(page: Page, web_url: str) -> None:
    sign_in(page, web_url, "driver", "driver")
    open_page(page, web_url, "driver")
    size = "() => parseFloat(getComputedStyle(document.body).fontSize)"
    before = page.evaluate(size)
    switch = page.get_by_role("button", name="大字模式")
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(size) > before * 1.3
    open_page(page, web_url, "driver")
    expect(page.locator("html")).to_have_class("large-text")
    screenshot(page, "driver-large-text")
    page.get_by_role("button", name="大字模式").click()
    assert page.evaluate(size) == before


TAB_TARGETS = """() => {
  const all = [...document.querySelectorAll("a[href], button, input, textarea, select")];
  const shown = all.filter((e) => !e.disabled && e.checkVisibility() && !e.closest("dialog"));
  shown.forEach((e, i) => { e.dataset.k = String(i); });
  return shown.length;
}"""


@pytest.mark.parametrize(("slug", "user"), [("driver", "driver"), ("leader", "leader"),
                                            ("dispatcher", "dispatcher")])  # fmt: skip
def test_every_control_is_reached_with_the_tab_key(
    page: Page, web_url: str, leaflet: None, slug: str, user: str
) -> None:
    sign_in(page, web_url, user, user)
    open_page(page, web_url, slug)
    count: int = page.evaluate(TAB_TARGETS)
    assert count > 5
    reached: set[str] = set()
    for _ in range(count * 3):
        page.keyboard.press("Tab")
        key = page.evaluate("() => document.activeElement?.dataset?.k ?? null")
        if key is not None:
            reached.add(key)
        if len(reached) == count:
            break
    missed = page.evaluate(
        "(reached) => [...document.querySelectorAll('[data-k]')]"
        ".filter((e) => !reached.includes(e.dataset.k)).map((e) => e.outerHTML.slice(0, 120))",
        sorted(reached),
    )
    assert missed == []


def test_keyboard_alone_reports_a_stop(page: Page, web_url: str) -> None:
    sign_in(page, web_url, "driver", "driver")
    open_page(page, web_url, "driver")
    arrived = page.locator("li.stop").nth(0).get_by_role("button", name="已到达")
    for _ in range(60):
        page.keyboard.press("Tab")
        if arrived.evaluate("(e) => e === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the first stop's arrived button")
    page.keyboard.press("Enter")
    expect(page.locator("li.stop").nth(0).locator(".stop-status")).to_contain_text("已记录")


def test_map_draws_layers_and_routes_per_vehicle(page: Page, web_url: str, leaflet: None) -> None:
    sign_in(page, web_url, "dispatcher", "dispatcher")
    open_page(page, web_url, "map")
    overlays = page.locator(".leaflet-control-layers-overlays")
    expect(overlays).to_contain_text("上海市界")
    expect(overlays).to_contain_text("区界")
    expect(overlays).to_contain_text("道路 (OSM)")
    expect(page.locator("#legend li")).to_have_count(1)
    expect(page.locator("#legend")).to_contain_text("沪A12345")
    colour = page.locator("#legend .swatch").first.get_attribute("style") or ""
    assert "#0072B2" in colour
    expect(page.locator("#map canvas").first).to_be_visible()
    expect(page.locator("#map")).to_have_attribute("data-routes", "1")
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("GS(2024)0650")
    screenshot(page, "map-routes")


def test_map_page_works_without_leaflet_and_says_why(
    page: Page, web_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "leaflet_installed", lambda: False)
    sign_in(page, web_url, "dispatcher", "dispatcher")
    open_page(page, web_url, "map")
    expect(page.locator("#map-note")).to_contain_text("未安装 Leaflet")
    expect(page.locator("#map")).to_have_count(0)
    expect(page.locator("#legend")).to_contain_text("沪A12345")
    screenshot(page, "map-without-leaflet")
