"""The driver's page: the route with navigation links, and stop reports that are recorded
exactly once whether the connection drops before the request or after the server answered."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from playwright.sync_api import Page, Route, expect

from tests.web.conftest import DAY, open_page, screenshot, sign_in, token


def _events(web_url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The driver's route sheets and the stop reports stored for their plan, via the API."""
    with httpx.Client(base_url=web_url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {token(client, 'driver')}"}
        sheets = client.get(f"/route-sheets/mine?delivery_date={DAY}", headers=headers).json()
        job_id = sheets[0]["job_id"]
        events = client.get(f"/plans/{job_id}/stops/events", headers=headers).json()
    return sheets, events


def _deliveries(sheet: dict[str, Any], index: int) -> list[str]:
    """Delivery ids behind the sheet's stop ``index`` (0-based)."""
    stop = sheet["stops"][index]
    return [d for line in stop["unload"] for d in line["delivery_ids"]]


def test_stop_reports_are_recorded_once_across_a_dropped_connection(
    page: Page, web_url: str
) -> None:
    sign_in(page, web_url, "driver", "driver")
    open_page(page, web_url, "driver")
    stops = page.locator("li.stop")
    expect(stops).to_have_count(2)
    first, second = stops.nth(0), stops.nth(1)
    assert (first.locator("a.nav-link").get_attribute("href") or "").startswith("geo:31.")

    first.get_by_role("button", name="已送达").click()
    expect(first.locator(".stop-status")).to_contain_text("已记录")

    page.context.set_offline(True)
    second.get_by_role("button", name="已送达").click()
    expect(second.locator(".stop-status")).to_contain_text("待发送")
    expect(page.locator("#offline")).to_be_visible()
    queued = page.evaluate("JSON.parse(localStorage.getItem('linli.driver.outbox')).length")
    assert queued >= 1
    screenshot(page, "driver-offline")
    page.context.set_offline(False)
    expect(second.locator(".stop-status")).to_contain_text("已记录", timeout=15_000)
    expect(page.locator("#outbox")).to_be_empty()
    screenshot(page, "driver")

    sheets, events = _events(web_url)
    delivered = Counter(e["delivery_id"] for e in events if e["status"] == "delivered")
    wanted = _deliveries(sheets[0]["sheet"], 0) + _deliveries(sheets[0]["sheet"], 1)
    assert delivered == Counter(wanted)  # each delivery of both stops exactly once
    assert all(e["reported_by"] == "driver" for e in events)


def test_a_report_whose_answer_was_lost_is_resent_and_stored_once(page: Page, web_url: str) -> None:
    sign_in(page, web_url, "driver", "driver")
    open_page(page, web_url, "driver")
    lost: list[str] = []

    def drop_first_answer(route: Route) -> None:
        """Let the server record the report, then cut the connection before the answer."""
        if not lost:
            reply = route.fetch()
            lost.append(reply.text())
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/stops/*/events", drop_first_answer)
    stop = page.locator("li.stop").nth(1)
    stop.get_by_role("button", name="已到达").click()
    expect(stop.locator(".stop-status")).to_contain_text("已到达: 已记录", timeout=15_000)
    assert lost and '"status":"arrived"' in lost[0]  # the first try did reach the server

    sheets, events = _events(web_url)
    arrived = Counter(e["delivery_id"] for e in events if e["status"] == "arrived")
    assert arrived == Counter(_deliveries(sheets[0]["sheet"], 1))


def test_a_failed_stop_needs_a_reason(page: Page, web_url: str) -> None:
    sign_in(page, web_url, "driver", "driver")
    open_page(page, web_url, "driver", lang="en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    stop = page.locator("li.stop").nth(0)
    stop.get_by_role("button", name="Failed").click()
    dialog = page.locator("#fail-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog.locator("#fail-error")).to_contain_text("Please say why")
    dialog.get_by_label("Why it failed").fill("gate closed")
    dialog.get_by_role("button", name="Submit").click()
    expect(stop.locator(".stop-status")).to_contain_text("gate closed", timeout=15_000)

    _, events = _events(web_url)
    failed = [e for e in events if e["status"] == "failed"]
    assert failed and {e["reason"] for e in failed} == {"gate closed"}
