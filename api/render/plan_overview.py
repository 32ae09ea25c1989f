"""The dispatcher's one-page view of a day's plan: the plan map and a line per vehicle.

The map is the PNG of ``plan_map_png`` placed on an A4 page; the table says per vehicle its
plate, driver, depot, stops, trips, distance, time and load, so the page can be pinned up in
the dispatch room next to the printed route sheets.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from api.render.base import Page, date_zh, hm, km, minutes
from api.render.fonts import CjkFont
from routing.sheets import RouteSheet

_WIDTHS = (22, 14, 26, 8, 8, 14, 16, 12)
_ALIGN = ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")


def vehicle_rows(sheets: Sequence[RouteSheet]) -> list[list[str]]:
    """Heading and a row per vehicle, by plate."""
    rows = [["车牌 plate", "司机 driver", "仓库 depot", "站", "趟", "里程", "出车–收车", "件数"]]
    for sheet in sorted(sheets, key=lambda s: s.plate):
        day = sheet.delivery_date
        rows.append(
            [
                sheet.plate,
                sheet.driver_name or "未指派",
                sheet.depot_name,
                str(len(sheet.stops)),
                str(sheet.trips),
                km(sheet.distance_m),
                f"{hm(sheet.start, day)}–{hm(sheet.end, day)}",
                str(sheet.units),
            ]
        )
    return rows


def plan_overview_pdf(
    sheets: Sequence[RouteSheet], map_png: bytes, *, day: dt.date, font: CjkFont | None = None
) -> bytes:
    """The plan map and the vehicle table as A4 PDF bytes."""
    pdf = Page(
        title=f"配送计划总览 {day.isoformat()}",
        footer=f"配送计划总览 · {day.isoformat()} · linli",
        font=font,
    )
    pdf.para("配送计划总览  Plan overview", 20, bold=True)
    distance = sum(s.distance_m for s in sheets)
    duration = sum(s.duration_s for s in sheets)
    pdf.para(
        f"{date_zh(day)}    {len(sheets)} 辆车    {sum(len(s.stops) for s in sheets)} 站    "
        f"共 {km(distance)}，{minutes(duration)}    {sum(s.units for s in sheets)} 件",
        12,
        bold=True,
    )
    pdf.gap(2)
    pdf.image(io.BytesIO(map_png), x=pdf.l_margin, w=pdf.width)
    pdf.gap(3)
    pdf.grid(vehicle_rows(sheets), _WIDTHS, size_pt=9, align=_ALIGN)
    return bytes(pdf.output())
