"""Door delivery under 封控 in the printed notice, and the volunteers' hand-out sheet."""

from __future__ import annotations

from pathlib import Path

from api.render.handout import handout_pdf
from api.render.html import handout_html, pickup_notice_html, sorting_list_html
from api.render.notice import pickup_notice_pdf
from routing.handout import build_handout, lines_from_orders
from routing.sheets import PickupNotice, SortingList
from tests.render.conftest import need_cjk_font, pdf_text
from tests.routing.test_sheets import (
    BUILDINGS,
    CATEGORIES,
    COMPOUNDS,
    NAMES,
    ORDERS,
    TODAY,
    documents,
)


def c1_b1(sealed: bool) -> tuple[PickupNotice, SortingList]:
    docs = documents(sealed={"c1"} if sealed else set())
    notice = next(n for n in docs.pickup_notices if n.building_id == "c1-b1")
    listed = next(s for s in docs.sorting_lists if s.compound_id == "c1")
    return notice, listed


def test_sealed_notice_html_says_when_the_volunteer_comes() -> None:
    notice, listed = c1_b1(sealed=False)
    assert "取货地点" in pickup_notice_html(notice)
    notice, listed = c1_b1(sealed=True)
    page = pickup_notice_html(notice)
    assert "送货上门通知" in page and "志愿者送货上门时间" in page and "取货地点" not in page
    assert "封控 送货上门" in sorting_list_html(listed)


def test_sealed_notice_pdf_text(tmp_path: Path) -> None:
    need_cjk_font()
    notice, _ = c1_b1(sealed=True)
    path = tmp_path / "notice.pdf"
    path.write_bytes(pickup_notice_pdf(notice))
    text = pdf_text(path)
    assert "送货上门通知" in text and "志愿者送货上门时间" in text
    assert "取货地点" not in text and "离本楼" not in text


def test_handout_sheet_html_and_pdf_show_rooms_not_households(tmp_path: Path) -> None:
    lines = lines_from_orders(ORDERS, "c1-b1", TODAY, CATEGORIES)
    sheet = build_handout(COMPOUNDS[0], BUILDINGS[0], TODAY, lines, sealed=False)
    page = handout_html(sheet)
    assert "101" in page and "送货上门" in page and "派发单" in page
    assert not any(name in page for name in NAMES) and "139000" not in page
    need_cjk_font()
    path = tmp_path / "handout.pdf"
    path.write_bytes(handout_pdf(sheet))
    text = pdf_text(path)
    assert "派发单" in text and "101" in text and "送货上门" in text
    assert not any(name in text for name in NAMES)
