"""Layout by construction, without reading PDFs back: line breaking, the poster's sizes and
order, the route map's projection and scale, and where the CJK font is found."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from api.render.base import wrap_lines
from api.render.fonts import FONT_ENV, CjkFont, FontNotFoundError, find_cjk_font, subset_cjk_font
from api.render.notice import MIN_POSTER_PT, SCALES, poster_lines
from api.render.route_map import layout_route_map
from data.geo import haversine_m
from routing.sheets import PickupNotice, RouteSheet
from tests.render.conftest import need_cjk_font
from tests.routing.test_sheets import DEPOT, GATES, documents


def width(text: str) -> float:
    """One unit per character: easy widths to reason about."""
    return float(len(text))


@pytest.fixture(scope="module")
def sheet() -> RouteSheet:
    return documents().route_sheets[0]


@pytest.fixture(scope="module")
def notices() -> dict[str, PickupNotice]:
    return {n.building_id: n for n in documents().pickup_notices}


def test_chinese_breaks_anywhere_but_times_stay_whole() -> None:
    assert wrap_lines("请在上述时间内到取货地点领取", 7, width) == [
        "请在上述时间内",
        "到取货地点领取",
    ]
    assert wrap_lines("取货 09:40–12:00 东门", 12, width) == ["取货", "09:40–12:00", "东门"]
    assert wrap_lines("第一行\n第二行", 10, width) == ["第一行", "第二行"]
    assert wrap_lines("abcdefghij", 4, width) == ["abcd", "efgh", "ij"]  # longer than a line


def test_closing_marks_hang_and_opening_marks_move_down() -> None:
    assert wrap_lines("谢谢大家配合！", 6, width) == ["谢谢大家配合！"]
    assert wrap_lines("一二三四（五六）", 5, width) == ["一二三四", "（五六）"]
    assert wrap_lines("一二三，四五六。", 3, width) == ["一二三，", "四五六。"]


def test_poster_starts_with_time_and_place_and_never_goes_under_24_pt(
    notices: dict[str, PickupNotice],
) -> None:
    notice = notices["c1-b2"]
    for scale in SCALES:
        lines = poster_lines(notice, scale)
        assert min(line.size_pt for line in lines) >= MIN_POSTER_PT
        texts = [line.text for line in lines]
        assert texts[0] == "阳光小区 2号楼"
        assert texts[2:7] == [
            "取货时间",
            "4月15日（周五）",
            "09:20 – 12:40",
            "取货地点",
            "2号楼架空层",
        ]
        assert texts.index("本楼到货") > texts.index("2号楼架空层")
    full = poster_lines(notice)
    assert max(line.size_pt for line in full) == 48 and full[4].bold


def test_poster_says_what_is_short_and_what_did_not_come(notices: dict[str, PickupNotice]) -> None:
    texts = [line.text for line in poster_lines(notices["c1-b1"])]
    assert "蔬菜  5 份（订购 7）" in texts
    assert "今日未到（已订购）：鸡蛋" in texts
    assert any("优先保障老人" in t for t in texts)  # the chat message's rules, not its header
    assert not any(t.startswith(("【", "取货时间：")) for t in texts)


def test_route_map_fits_the_box_at_a_true_scale(sheet: RouteSheet) -> None:
    x, y, w, h = 10.0, 20.0, 180.0, 90.0
    layout = layout_route_map(sheet, x, y, w, h)
    depot, *stops = layout.points
    assert depot.depot and depot.label == "仓"
    assert [(p.label, p.name) for p in stops] == [("1, 3", "阳光小区 东门"), ("2", "和平苑 南门")]
    for p in layout.points:
        assert x < p.x < x + w and y < p.y < y + h
    # depot → 1 → 2 → depot (new trip) → 3 → depot
    assert [s.trip for s in layout.segments] == [0, 0, 0, 1, 1]
    assert (layout.segments[-1].x2, layout.segments[-1].y2) == (depot.x, depot.y)
    # north up: the south gate of 和平苑 lies north of 东门, so higher on the page
    assert stops[1].y < stops[0].y
    on_page = ((stops[0].x - depot.x) ** 2 + (stops[0].y - depot.y) ** 2) ** 0.5
    metres = haversine_m(*DEPOT, *GATES["c1-g1"])
    assert on_page * layout.metres_per_mm == pytest.approx(metres, rel=0.01)
    assert layout.scale_bar_m / layout.metres_per_mm <= w / 4


def test_missing_font_names_the_debian_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(FONT_ENV, raising=False)
    with pytest.raises(FontNotFoundError, match="fonts-noto-cjk"):
        find_cjk_font([tmp_path])
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "nothing.ttf"))
    with pytest.raises(FontNotFoundError, match=f"{FONT_ENV}=.*fonts-noto-cjk"):
        find_cjk_font()
    (tmp_path / "broken.otf").write_bytes(b"not a font")
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "broken.otf"))
    with pytest.raises(FontNotFoundError, match="cannot read"):
        find_cjk_font()


def test_the_simplified_chinese_face_is_chosen_from_the_collection(tmp_path: Path) -> None:
    need_cjk_font()
    font = find_cjk_font()
    if font.regular.path.suffix == ".ttc":
        from fontTools.ttLib import TTFont

        face = TTFont(font.regular.path, fontNumber=font.regular.index, lazy=True)
        assert face["name"].getDebugName(1) == "Noto Sans CJK SC"
    copy = tmp_path / "fonts"
    copy.mkdir()
    shutil.copy(font.regular.path, copy / font.regular.path.name)
    alone = find_cjk_font([copy])
    assert alone.bold == alone.regular  # no bold file: bold prints in the regular face


def test_subset_font_keeps_the_characters_asked_for(tmp_path: Path) -> None:
    need_cjk_font()
    from fontTools.ttLib import TTFont

    regular = find_cjk_font().regular
    small = subset_cjk_font("阳光小区 沪A·12345 取货", tmp_path, CjkFont(regular, regular))
    assert small.bold == small.regular and small.regular.path.parent == tmp_path
    cmap = TTFont(small.regular.path)["cmap"].getBestCmap()
    assert all(ord(c) in cmap for c in "阳光小区沪A·12345取货z")
    assert ord("鸡") not in cmap


def test_route_map_draws_the_roads_and_boundaries_that_cross_it(
    sheet: RouteSheet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.render.route_map import background_lines, layout_route_map
    from api.web.geo import LayerKind

    box = (10.0, 20.0, 180.0, 95.0)
    layout = layout_route_map(sheet, *box)
    stop = sheet.stops[0]
    road = [[stop.gate_lon - 0.001, stop.gate_lat], [stop.gate_lon + 0.001, stop.gate_lat]]
    far = [[stop.gate_lon + 1.0, stop.gate_lat + 1.0], [stop.gate_lon + 1.1, stop.gate_lat + 1.0]]
    roads = tmp_path / "roads" / "osm_drive_peoples_square_ways.geojson"
    roads.parent.mkdir()
    features = [
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": c}}
        for c in (road, far)
    ]
    roads.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    monkeypatch.setenv("LINLI_MAP_DATA", str(tmp_path))
    drawn = [line for kind, line in background_lines(layout, *box) if kind is LayerKind.road]
    assert len(drawn) == 1  # the far road is off the map
    (x1, y1), (x2, y2) = drawn[0]
    gate_x, gate_y = layout.to_page(stop.gate_lon, stop.gate_lat)
    assert x1 < gate_x < x2 and abs(y1 - gate_y) < 0.01 and abs(y2 - gate_y) < 0.01
