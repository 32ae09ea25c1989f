"""A building's hand-out sheet (派发单) as an A4 PDF and an HTML page for its volunteers.

Room numbers, packages and units, door-delivery rooms marked 送货上门 and the hand-out steps
with tick boxes. The sheet model holds no names, phones or priority reasons, so nothing
here can print them. ``handout_rows`` lays the table out for both formats.
"""

from __future__ import annotations

from api.render.base import Page, date_zh, hm
from api.render.fonts import CjkFont
from api.render.sorting_list import BOX
from routing.handout import STEP_ORDER, STEP_ZH, HandoutSheet

DOOR_MARK = "送货上门 door"
"""How a door-delivery room is marked (never why)."""

_WIDTHS = (14, 40, 10, 20, 8)
_ALIGN = ("LEFT", "LEFT", "RIGHT", "LEFT", "CENTER")


def handout_rows(sheet: HandoutSheet) -> list[list[str]]:
    """The sheet's table, heading first: room, packages, units, door delivery, a tick box."""
    rows = [["房号 room", "商品 packages", "件数 units", "派送 delivery", "已发"]]
    for room in sheet.rooms:
        rows.append(
            [
                room.room,
                "、".join(f"{item.package} × {item.units}" for item in room.items),
                str(room.units),
                DOOR_MARK if room.door_delivery else "",
                BOX,
            ]
        )
    return rows


def slot_text(sheet: HandoutSheet) -> str:
    """The building's hand-out slot, or empty when the day is not planned yet."""
    if sheet.slot_start is None or sheet.slot_end is None:
        return ""
    day = sheet.delivery_date
    kind = "志愿者送货上门时间" if sheet.sealed else "派发时间"
    return f"{kind} hand-out: {hm(sheet.slot_start, day)} – {hm(sheet.slot_end, day)}"


def step_lines(sheet: HandoutSheet) -> list[str]:
    """One line per delivery: each step done (time) or an empty box to tick."""
    lines = []
    for delivery in sheet.deliveries:
        done = {record.step: record for record in delivery.steps}
        marks = [
            f"{STEP_ZH[step]} {step.value} {hm(done[step].at, sheet.delivery_date)}"
            if step in done
            else f"{BOX} {STEP_ZH[step]} {step.value}"
            for step in STEP_ORDER
        ]
        lines.append(f"{delivery.label}：" + " → ".join(marks))
    return lines


def handout_pdf(sheet: HandoutSheet, *, font: CjkFont | None = None) -> bytes:
    """The hand-out sheet of one building as A4 PDF bytes: rooms and packages, no names."""
    day = sheet.delivery_date.isoformat()
    pdf = Page(
        title=f"派发单 {sheet.compound_name} {sheet.building_name} {day}",
        footer=f"派发单 {sheet.building_name} · {day} · 仅房号 rooms only · linli",
        font=font,
    )
    pdf.para(f"{sheet.compound_name} {sheet.building_name}  派发单  Hand-out sheet", 20, True)
    pdf.para(
        f"{date_zh(sheet.delivery_date)}    共 {sheet.units} 件，{len(sheet.rooms)} 户", 12, True
    )
    if sheet.sealed:
        pdf.para("封控：全部送货上门 / sealed: every room gets door delivery", 14, bold=True)
    if slot_text(sheet):
        pdf.para(slot_text(sheet), 12, bold=True)
    pdf.gap(2)
    pdf.para("步骤 steps: 接收 received → 消杀 disinfected → 派发 handed out", 11, bold=True)
    for line in step_lines(sheet):
        pdf.para(line, 11)
    pdf.gap(2)
    totals = [["商品 package", "件数 units", "户数 rooms"]]
    totals += [[t.package, str(t.units), str(t.rooms)] for t in sheet.totals]
    pdf.grid(totals, (40, 15, 15), size_pt=11, align=("LEFT", "RIGHT", "RIGHT"))
    pdf.gap(2)
    pdf.grid(handout_rows(sheet), _WIDTHS, size_pt=11, align=_ALIGN)
    pdf.gap(2)
    for note in sheet.notes_zh:
        pdf.para(note, 10)
    for note in sheet.notes_en:
        pdf.para(note, 8)
    pdf.gap(6)
    pdf.para("志愿者 volunteer ____________    时间 time ____________", 11)
    return bytes(pdf.output())
