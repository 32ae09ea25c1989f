"""PDF documents of the hand-made day of tests/routing/test_sheets.py, checked as a reader
would: pages rendered to PNG are not blank, the text extracted from each PDF is the Chinese
put in, household data only in the leader's list, the poster's text never under 24 pt."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from api.render.base import day_hm, hm, local
from api.render.fonts import find_cjk_font, subset_cjk_font
from api.render.notice import MIN_POSTER_PT
from api.render.pdf import pickup_notice_pdf, printed_text, route_sheet_pdf, write_pdfs
from routing.sheets import Documents, write_documents
from tests.render.conftest import (
    font_sizes,
    need_cjk_font,
    page_count,
    pdf_lines,
    pdf_text,
    poppler,
)
from tests.routing.test_sheets import NAMES, ORDERS, documents


@dataclass(frozen=True)
class Written:
    """The day's documents, the folder ``write_pdfs`` wrote to, its paths, fpdf2's warnings."""

    docs: Documents
    folder: Path
    paths: tuple[str, ...]
    warnings: tuple[str, ...]


class _Collect(logging.Handler):
    """Keeps the messages fpdf2 logs (a missing glyph is logged, not raised)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    """Every PDF of the day, written once for the module's tests."""
    need_cjk_font()
    docs = documents()
    folder = tmp_path_factory.mktemp("pdfs")
    stale = folder / "notices" / "gone" / "old.pdf"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"%PDF-1.4 stale")
    collect = _Collect()
    logger = logging.getLogger("fpdf")
    logger.addHandler(collect)
    try:
        paths = write_pdfs(docs, folder)
    finally:
        logger.removeHandler(collect)
    yield Written(docs, folder, paths, tuple(collect.messages))


def owners(docs: Documents, compound_id: str) -> tuple[set[str], set[str]]:
    """Names and phones of the households of ``compound_id`` ordering on the day."""
    mine = [
        o for o in ORDERS if o.compound_id == compound_id and o.delivery_date == docs.delivery_date
    ]
    return {o.household_name for o in mine}, {o.phone for o in mine}


def png_pages(pdf: Path, folder: Path) -> list[Path]:
    """Every page of ``pdf`` rendered by pdftoppm to PNG at 50 dpi."""
    folder.mkdir(parents=True, exist_ok=True)
    poppler("pdftoppm", "-r", "50", "-png", str(pdf), str(folder / pdf.stem))
    return sorted(folder.glob(f"{pdf.stem}*.png"))


def ink(png: Path) -> float:
    """Share of a page's pixels that are dark: 0 for a blank page."""
    with Image.open(png) as image:
        grey = image.convert("L")
        dark = sum(count for value, count in enumerate(grey.histogram()) if value < 128)
        return dark / (grey.width * grey.height)


def test_pdfs_lie_beside_the_json_and_stale_ones_are_gone(written: Written, tmp_path: Path) -> None:
    index = write_documents(written.docs, tmp_path).parent
    json_paths = sorted(
        p.relative_to(index).as_posix() for p in index.rglob("*.json") if p.name != "index.json"
    )
    documents = sorted(set(written.paths) - {"plan_overview.pdf"})
    assert documents == [p.removesuffix(".json") + ".pdf" for p in json_paths]
    assert "plan_overview.pdf" in written.paths  # the dispatcher's page with the plan map
    assert written.paths[0] == "route_sheets/v1.pdf"
    assert "sorting_lists_leader/c1.pdf" in written.paths
    assert "notices/c1/c1-b2.pdf" in written.paths
    assert not (written.folder / "notices" / "gone" / "old.pdf").exists()
    for path in written.paths:
        assert (written.folder / path).read_bytes().startswith(b"%PDF-")


def test_every_page_renders_to_a_non_blank_png(written: Written, tmp_path: Path) -> None:
    for path in written.paths:
        pages = png_pages(written.folder / path, tmp_path / Path(path).parent)
        assert len(pages) == page_count(written.folder / path) >= 1
        for page in pages:
            assert ink(page) > 0.005, f"{page} looks blank"


def test_chinese_is_embedded_in_noto_sans_cjk_and_no_glyph_is_missing(written: Written) -> None:
    for path in written.paths:
        fonts = poppler("pdffonts", str(written.folder / path))
        assert "NotoSansCJKSC" in fonts, fonts
        assert "Helvetica" not in fonts and "Times" not in fonts
    assert not [m for m in written.warnings if "missing" in m], written.warnings


def test_route_sheet_text_is_the_chinese_put_in(written: Written) -> None:
    (sheet,) = written.docs.route_sheets
    text = pdf_text(written.folder / "route_sheets" / "v1.pdf")
    lines = pdf_lines(written.folder / "route_sheets" / "v1.pdf")
    assert "配送路线单" in text and "沪A·12345" in text and "王师傅" in lines
    for stop in sheet.stops:
        title = f"第 {stop.sequence} 站 {stop.compound_name} · {stop.gate_name}"
        assert title in lines, lines
        assert f"预计到达 ETA {hm(stop.arrival)}" in text
        assert f"时间窗 {hm(stop.window_start)}–{hm(stop.window_end)}" in text
        for line in stop.unload:
            assert line.category.name_zh in lines
            for building in line.buildings:
                assert f"{building.building_name} {building.units}" in text
    assert text.count("收货人签字") == len(sheet.stops)
    assert sheet.driver_test_valid_until and sheet.vehicle_pass_valid_until
    assert day_hm(sheet.driver_test_valid_until) in lines  # 4月15日 20:00
    assert day_hm(sheet.vehicle_pass_valid_until) in lines
    assert "车辆通行证 vehicle pass" in lines and "司机核酸 48 小时 driver test" in lines
    assert {"仓", "500 米"} <= set(lines) and "北N" in text  # the map: depot, scale, north
    for name in NAMES:
        assert name not in text


def test_aggregate_sorting_list_has_buildings_and_no_household_data(written: Written) -> None:
    for sorting in written.docs.sorting_lists:
        path = written.folder / "sorting_lists" / f"{sorting.compound_id}.pdf"
        text, lines = pdf_text(path), pdf_lines(path)
        assert f"{sorting.compound_name} 分拣单 Sorting list" in lines
        for building in sorting.buildings:
            assert f"{building.building_name} 共 {building.units} 件 units" in lines
        for total in sorting.categories:
            assert f"{total.category.name_zh} ({total.category.unit})" in lines
        for order in ORDERS:
            assert order.household_name not in text and order.phone not in text
        assert "房号" not in text and "姓名" not in text


def test_leader_sorting_list_prints_its_households(written: Written) -> None:
    for leader in written.docs.leader_sorting_lists:
        compound_id = leader.sorting_list.compound_id
        text = pdf_text(written.folder / "sorting_lists_leader" / f"{compound_id}.pdf")
        names, phones = owners(written.docs, compound_id)
        assert names and all(name in text for name in names)
        assert all(phone in text for phone in phones)
        others = {o.household_name for o in ORDERS} - names
        assert not any(name in text for name in others)  # only this compound's households
        assert "仅限团长" in text and leader.sorting_list.compound_name in text
    rows = pdf_text(written.folder / "sorting_lists_leader" / "c1.pdf", layout=True)
    row = {line.split()[1]: line.split() for line in rows.splitlines() if "1390" in line}
    assert row["张阿姨"][:4] == ["101", "张阿姨", "1390001010", "蔬菜"]
    assert row["张阿姨"][-2:] == ["老人", "□"]  # priority flag in Chinese, a tick box
    assert row["赵先生"][-2:] == ["婴幼儿", "□"]


def test_pickup_notice_poster_puts_time_and_place_first(written: Written) -> None:
    for notice in written.docs.pickup_notices:
        path = written.folder / "notices" / notice.compound_id / f"{notice.building_id}.pdf"
        lines = pdf_lines(path)
        start = local(notice.slot_start)
        assert lines[0] == f"{notice.compound_name} {notice.building_name}"
        assert lines[1] == "团购到货 取货通知"
        assert lines[2:7] == [
            "取货时间",
            f"{start.month}月{start.day}日（周五）",
            f"{hm(notice.slot_start)} – {hm(notice.slot_end)}",
            "取货地点",
            notice.pickup_point,
        ]
        goods = lines.index("本楼到货")
        arriving = [x for x in notice.lines if x.units]
        for x in arriving:
            said = f"{x.category.name_zh} {x.units} {x.category.unit}"
            assert any(line.startswith(said) for line in lines[goods:]), lines
        assert page_count(path) == 1
    b2 = next(n for n in written.docs.pickup_notices if n.building_id == "c1-b2")
    assert b2.pickup_point == "2号楼架空层"


def test_poster_text_is_never_under_24_pt(written: Written) -> None:
    for notice in written.docs.pickup_notices:
        path = written.folder / "notices" / notice.compound_id / f"{notice.building_id}.pdf"
        sizes = font_sizes(path)
        assert sizes and min(sizes) >= MIN_POSTER_PT, sizes
    # the same check sees small text where there is some
    assert min(font_sizes(written.folder / "route_sheets" / "v1.pdf")) < MIN_POSTER_PT


@pytest.mark.parametrize("categories", [5, 12])
def test_a_crowded_poster_shrinks_its_headlines_but_not_under_24_pt(
    written: Written, tmp_path: Path, categories: int
) -> None:
    notice = next(n for n in written.docs.pickup_notices if n.building_id == "c1-b1")
    short = notice.lines[0].model_copy(update={"ordered_units": 9})
    crowded = notice.model_copy(update={"lines": (short,) * categories})
    small = subset_cjk_font(printed_text(written.docs), tmp_path)
    path = tmp_path / "crowded.pdf"
    path.write_bytes(pickup_notice_pdf(crowded, font=small))
    assert min(font_sizes(path)) >= MIN_POSTER_PT
    assert page_count(path) == (1 if categories == 5 else 2)  # 12 arriving: more than a page
    if categories == 5:
        assert pdf_lines(path)[2:4] == ["取货时间", "4月15日（周五）"]
    else:  # the compact layout was tried: headings share the line of what they head
        assert pdf_lines(path)[2:4] == ["取货时间 4月15日（周五）", "09:20 – 12:40"]


def test_a_single_document_renders_with_the_full_font() -> None:
    need_cjk_font()
    sheet = documents().route_sheets[0]
    content = route_sheet_pdf(sheet, font=find_cjk_font())
    assert content.startswith(b"%PDF-") and b"NotoSansCJKSC" in content
