"""The driver's route sheet as an A4 PDF: vehicle, certificates, load, map, one block per stop.

Each stop block holds the gate, the window, the ETA, what to unload by building and a line
for the receiver's signature; a block is never split over two pages, so a driver can hand
one page to a gate volunteer.
"""

from __future__ import annotations

import datetime as dt

from fpdf.enums import XPos

from api.render.base import FAMILY, Page, date_zh, day_hm, hm, km, minutes
from api.render.fonts import CjkFont
from api.render.route_map import draw_route_map
from routing.sheets import RouteSheet, SheetStop, UnloadLine

MAP_HEIGHT_MM = 95.0
_UNLOAD_WIDTHS = (22.0, 14.0, 14.0, 50.0)


def validity(valid_until: dt.datetime | None, sheet: RouteSheet) -> tuple[str, str]:
    """(valid until, status) of a certificate, warning when it lapses before the route ends."""
    if valid_until is None:
        return "未登记 not on file", "请出车前补齐 / get it before leaving"
    until = day_hm(valid_until)
    if valid_until < sheet.end:
        return until, f"注意：早于收车 {hm(sheet.end)}，请先续办 / renew before the route ends"
    return until, "有效 valid"


def buildings_text(line: UnloadLine) -> str:
    """``1号楼 3，2号楼 1；未分楼 2`` for an unload line."""
    text = "，".join(f"{b.building_name} {b.units}" for b in line.buildings)
    if line.unsorted_units:
        text += f"{'；' if text else ''}未分楼（团长分配）{line.unsorted_units}"
    return text or "—"


def load_rows(sheet: RouteSheet) -> list[list[str]]:
    """What the vehicle loads at the depot: per category label, units and kg."""
    names = {
        line.category.category_id: line.category for stop in sheet.stops for line in stop.unload
    }
    rows = []
    for item in sheet.load_by_category:
        ref = names.get(item.category_id)
        label = item.category_id if ref is None else f"{ref.name_zh} ({ref.unit})"
        rows.append([label, str(item.quantity_units), str(item.weight_kg)])
    return rows


def _unload_rows(stop: SheetStop) -> list[list[str]]:
    """The unload table of a stop, heading first."""
    rows = [["品类 category", "件数 units", "重量 kg", "按楼栋 by building"]]
    for line in stop.unload:
        rows.append(
            [
                line.category.name_zh,
                f"{line.units} {line.category.unit}",
                str(line.weight_kg),
                buildings_text(line),
            ]
        )
    return rows


def _stop_block(pdf: Page, stop: SheetStop, sheet: RouteSheet) -> None:
    """One stop: a black bar with number and place, times, leg, unload table, signature line."""
    rows = _unload_rows(stop)
    needed = 8 + 2 * pdf.line_mm(10) + pdf.grid_height(rows, _UNLOAD_WIDTHS) + 16
    if pdf.will_page_break(needed):
        pdf.add_page()
    day = sheet.delivery_date
    pdf.set_fill_color(0)
    pdf.set_text_color(255)
    pdf.set_font(FAMILY, "B", 13)
    title = f"第 {stop.sequence} 站  {stop.compound_name} · {stop.gate_name}"
    pdf.cell(pdf.width - 30, 8, f" {title}", fill=True)
    pdf.cell(30, 8, f"第 {stop.trip + 1} 趟 ", fill=True, align="R", new_x=XPos.LMARGIN)
    pdf.ln(8)
    pdf.set_text_color(0)
    wait = f"（门口排队约 {minutes(stop.gate_wait_s)}）" if stop.gate_wait_s else ""
    pdf.para(
        f"时间窗 {hm(stop.window_start, day)}–{hm(stop.window_end, day)}    "
        f"预计到达 ETA {hm(stop.arrival, day)}    开始卸货 {hm(stop.service_start, day)}{wait}    "
        f"离开 {hm(stop.departure, day)}",
        10,
        bold=True,
    )
    origin = "从仓库出发" if stop.leg_from == "depot" else "距上一站"
    pdf.para(
        f"{origin} {km(stop.leg_distance_m)}，约 {minutes(stop.leg_duration_s)}    "
        f"本站 {stop.units} 件 / {stop.weight_kg} kg    门口联系：{stop.gate_contact_role}",
        10,
    )
    pdf.gap(1)
    pdf.grid(rows, _UNLOAD_WIDTHS, align=("LEFT", "RIGHT", "RIGHT", "LEFT"))
    pdf.gap(7)
    y = pdf.get_y()
    pdf.set_font(FAMILY, "", 10)
    left = pdf.l_margin
    pdf.text(left, y, "收货人签字 signature")
    pdf.set_line_width(0.3)
    pdf.line(left + 36, y + 0.5, left + 95, y + 0.5)
    pdf.text(left + 99, y, "时间 time")
    pdf.line(left + 115, y + 0.5, left + 140, y + 0.5)
    pdf.text(left + 144, y, "实收件数")
    pdf.line(left + 161, y + 0.5, left + pdf.width, y + 0.5)
    pdf.set_y(y + 6)


def route_sheet_pdf(sheet: RouteSheet, *, font: CjkFont | None = None) -> bytes:
    """The route sheet of one vehicle as A4 PDF bytes."""
    driver = sheet.driver_name or "未指派 unassigned"
    pdf = Page(
        title=f"配送路线单 {sheet.plate} {sheet.delivery_date.isoformat()}",
        footer=f"配送路线单 {sheet.plate} · {driver} · {sheet.delivery_date.isoformat()} · linli",
        font=font,
    )
    pdf.para("配送路线单  Route sheet", 20, bold=True)
    kind = "冷藏车 refrigerated" if sheet.refrigerated else "常温车 ambient"
    pdf.para(f"{date_zh(sheet.delivery_date)}    车牌 {sheet.plate}    {kind}", 12, bold=True)
    pdf.gap(1)
    pdf.grid(
        [
            ["司机 driver", "出发仓库 depot", "出车 start", "收车 end", "趟数 trips"],
            [
                driver,
                sheet.depot_name,
                hm(sheet.start, sheet.delivery_date),
                hm(sheet.end, sheet.delivery_date),
                str(sheet.trips),
            ],
            ["里程 distance", "用时 duration", "总件数 units", "总重 weight", "供应商 supplier"],
            [
                km(sheet.distance_m),
                minutes(sheet.duration_s),
                str(sheet.units),
                f"{sheet.weight_kg} kg",
                sheet.supplier_id,
            ],
        ],
        (1, 1, 1, 1, 1),
        size_pt=10,
    )
    pdf.gap(2)
    pass_until, pass_state = validity(sheet.vehicle_pass_valid_until, sheet)
    test_until, test_state = validity(sheet.driver_test_valid_until, sheet)
    pdf.grid(
        [
            ["证件 certificate", "有效至 valid until", "状态 status"],
            ["车辆通行证 vehicle pass", pass_until, pass_state],
            ["司机核酸 48 小时 driver test", test_until, test_state],
        ],
        (30, 25, 45),
        size_pt=10,
    )
    pdf.gap(2)
    load = [["装车 load", "件数 units", "重量 kg"], *load_rows(sheet)]
    pdf.grid(load, (40, 15, 15), size_pt=10, align=("LEFT", "RIGHT", "RIGHT"))
    pdf.gap(3)
    if pdf.will_page_break(MAP_HEIGHT_MM + 2):
        pdf.add_page()
    top = pdf.get_y()
    draw_route_map(pdf, sheet, pdf.l_margin, top, pdf.width, MAP_HEIGHT_MM)
    pdf.set_xy(pdf.l_margin, top + MAP_HEIGHT_MM + 4)
    for stop in sheet.stops:
        _stop_block(pdf, stop, sheet)
    pdf.para(
        f"返回仓库 {sheet.depot_name}：{km(sheet.return_distance_m)}，"
        f"约 {minutes(sheet.return_duration_s)}，收车 {hm(sheet.end, sheet.delivery_date)}",
        10,
        bold=True,
    )
    return bytes(pdf.output())
