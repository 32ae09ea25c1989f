"""The compound's sorting list (分拣单) as an A4 PDF, aggregate or with the leader's lines.

``sorting_list_pdf`` takes a ``SortingList``, which holds no household data, so what it
prints is safe for building volunteers, dispatchers and drivers. ``leader_sorting_list_pdf``
is the only renderer that prints rooms, names, phones and priority flags.
"""

from __future__ import annotations

from collections.abc import Sequence

from fpdf.enums import XPos

from api.render.base import FAMILY, Page, date_zh, hm
from api.render.fonts import CjkFont
from data.schemas import PriorityFlag
from routing.sheets import (
    BuildingSorting,
    CategoryRef,
    HouseholdLine,
    LeaderSortingList,
    SortingList,
)

PRIORITY_ZH = {
    PriorityFlag.elderly: "老人",
    PriorityFlag.infant: "婴幼儿",
    PriorityFlag.pregnant: "孕妇",
    PriorityFlag.chronic_illness: "慢病",
    PriorityFlag.disability: "残障",
}
"""How the leader's list names each priority flag."""

BOX = "□"
"""An empty tick box, printed for the person who hands the goods out."""

_BUILDING_WIDTHS = (30, 17, 17, 20, 10)
_BUILDING_ALIGN = ("LEFT", "RIGHT", "RIGHT", "RIGHT", "CENTER")
_HOUSEHOLD_WIDTHS = (11, 15, 22, 13, 10, 10, 16, 9, 9)
_HOUSEHOLD_ALIGN = ("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT", "CENTER", "CENTER")


def _bar(pdf: Page, text: str, size_pt: float = 12) -> None:
    """A black bar with white bold text across the page: a section or building heading."""
    pdf.set_fill_color(0)
    pdf.set_text_color(255)
    pdf.set_font(FAMILY, "B", size_pt)
    pdf.cell(0, pdf.line_mm(size_pt) + 1, f" {text}", fill=True, new_x=XPos.LMARGIN)
    pdf.ln(pdf.line_mm(size_pt) + 2)
    pdf.set_text_color(0)


def category_names(sorting_list: SortingList) -> dict[str, CategoryRef]:
    """The list's categories by id."""
    return {total.category.category_id: total.category for total in sorting_list.categories}


def category_label(names: dict[str, CategoryRef], category_id: str) -> str:
    """``蔬菜 (份)``, or the id when the category is unknown."""
    ref = names.get(category_id)
    return category_id if ref is None else f"{ref.name_zh} ({ref.unit})"


def place_text(building: BuildingSorting) -> str:
    """Where the building's goods go: door delivery, or the pickup point (pinned or not)."""
    if building.door_delivery:
        return "封控 送货上门 / sealed: door delivery by volunteers"
    if not building.pickup_point:
        return ""
    pinned = "（团长指定 pinned）" if building.pickup_pinned else ""
    return f"取货点 pickup: {building.pickup_point}{pinned}"


def _building_rows(building: BuildingSorting, names: dict[str, CategoryRef]) -> list[list[str]]:
    """A building's table: per category ordered, arriving, of which priority, a tick box."""
    rows = [["品类 category", "订购 ordered", "到货 arriving", "其中优先户 priority", "已分"]]
    for line in building.lines:
        rows.append(
            [
                category_label(names, line.category_id),
                str(line.ordered_units),
                str(line.units),
                str(line.priority_units),
                BOX,
            ]
        )
    return rows


def _draw_aggregate(pdf: Page, sorting_list: SortingList) -> None:
    """The aggregate list: arrivals, totals per category, one table per building, notes."""
    day = sorting_list.delivery_date
    names = category_names(sorting_list)
    pdf.para(f"{sorting_list.compound_name}  分拣单  Sorting list", 20, bold=True)
    pdf.para(f"{date_zh(day)}    按楼栋、品类分拣 per building and category", 12, bold=True)
    if sorting_list.short:
        pdf.para(
            "部分品类到货少于订购，见文末说明 / some categories are short, see notes", 11, True
        )
    pdf.gap(2)
    _bar(pdf, "到货车次 arrivals")
    arrivals = [["到达 arrival", "门 gate", "车牌 plate", "品类 category", "件数 units"]]
    for a in sorting_list.arrivals:
        arrivals.append(
            [
                hm(a.arrival, day),
                a.gate_name,
                a.plate,
                category_label(names, a.category_id),
                str(a.units),
            ]
        )
    pdf.grid(arrivals, (14, 18, 20, 20, 12), size_pt=10, align=(*["LEFT"] * 4, "RIGHT"))
    pdf.gap(3)
    _bar(pdf, "品类汇总 totals")
    totals = [["品类", "订购", "到货", "其中优先户", "缺 short", "未分楼 unsorted"]]
    for t in sorting_list.categories:
        totals.append(
            [
                category_label(names, t.category.category_id),
                str(t.ordered_units),
                str(t.delivered_units),
                str(t.priority_units),
                str(t.short_units),
                str(t.unsorted_units),
            ]
        )
    pdf.grid(totals, (24, 12, 12, 14, 12, 14), size_pt=10, align=("LEFT", *["RIGHT"] * 5))
    pdf.gap(3)
    for building in sorting_list.buildings:
        rows = _building_rows(building, names)
        if pdf.will_page_break(pdf.line_mm(12) + 3 + pdf.grid_height(rows, _BUILDING_WIDTHS, 11)):
            pdf.add_page()
        _bar(pdf, f"{building.building_name}    共 {building.units} 件 units")
        if place_text(building):
            pdf.para(place_text(building), 11, bold=True)
        pdf.grid(rows, _BUILDING_WIDTHS, size_pt=11, align=_BUILDING_ALIGN)
        pdf.gap(3)
    if sorting_list.notes_zh:
        _bar(pdf, "说明 notes")
        for note in sorting_list.notes_zh:
            pdf.para(note, 10)
        for note in sorting_list.notes_en:
            pdf.para(note, 8)
    pdf.gap(6)
    pdf.para("分拣人 sorted by ____________    核对人 checked by ____________", 11)


def sorting_list_pdf(sorting_list: SortingList, *, font: CjkFont | None = None) -> bytes:
    """The aggregate sorting list of one compound as A4 PDF bytes: no household data."""
    pdf = Page(
        title=f"分拣单 {sorting_list.compound_name} {sorting_list.delivery_date.isoformat()}",
        footer=(
            f"分拣单 {sorting_list.compound_name} · {sorting_list.delivery_date.isoformat()} · "
            "不含住户信息 no household data · linli"
        ),
        font=font,
    )
    _draw_aggregate(pdf, sorting_list)
    return bytes(pdf.output())


def flags_zh(line: HouseholdLine) -> str:
    """The household's priority flags in Chinese, ``、``-separated."""
    return "、".join(PRIORITY_ZH.get(flag, str(flag)) for flag in line.priority_flags)


def _household_rows(
    lines: Sequence[HouseholdLine], names: dict[str, CategoryRef]
) -> list[list[str]]:
    """The leader's table of one building: a row per household and category."""
    rows = [["房号", "姓名", "电话", "品类", "订购", "到货", "优先", "代订", "签收"]]
    for h in lines:
        rows.append(
            [
                h.room,
                h.household_name,
                h.phone,
                category_label(names, h.category_id),
                str(h.ordered_units),
                str(h.units),
                flags_zh(h),
                "代订" if h.proxy else "",
                BOX,
            ]
        )
    return rows


def leader_sorting_list_pdf(
    leader_list: LeaderSortingList, *, font: CjkFont | None = None
) -> bytes:
    """The leader's sorting list as A4 PDF bytes: the aggregate list plus household lines.

    Private: it prints rooms, names, phones and priority flags, for the group leaders only.
    """
    sorting_list = leader_list.sorting_list
    pdf = Page(
        title=f"团长分拣单 {sorting_list.compound_name} {sorting_list.delivery_date.isoformat()}",
        footer=(
            f"团长分拣单 {sorting_list.compound_name} · {sorting_list.delivery_date.isoformat()}"
            " · 含住户个人信息，仅限团长，请勿外传 leaders only · linli"
        ),
        font=font,
    )
    pdf.para("含住户个人信息，仅限团长使用，请勿转发  PRIVATE: leaders only", 12, bold=True)
    _draw_aggregate(pdf, sorting_list)
    names = category_names(sorting_list)
    pdf.add_page()
    pdf.para(f"{sorting_list.compound_name}  住户明细  Household lines", 20, bold=True)
    pdf.para("按房号分发；优先户先分；代订户由志愿者送达 / hand out by room", 11)
    pdf.gap(2)
    by_building: dict[str, list[HouseholdLine]] = {}
    for line in leader_list.households:
        by_building.setdefault(line.building_id, []).append(line)
    for lines in by_building.values():
        building_name = lines[0].building_name
        rows = _household_rows(lines, names)
        if pdf.will_page_break(pdf.line_mm(12) + 3 + pdf.grid_height(rows[:3], _HOUSEHOLD_WIDTHS)):
            pdf.add_page()
        _bar(pdf, f"{building_name}    {len({h.order_id for h in lines})} 户 households")
        pdf.grid(rows, _HOUSEHOLD_WIDTHS, size_pt=10, align=_HOUSEHOLD_ALIGN)
        pdf.gap(3)
    return bytes(pdf.output())
