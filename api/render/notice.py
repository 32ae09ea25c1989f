"""A building's pickup notice (取货通知) as a large-font A4 poster for the lobby door.

In a sealed compound it is a door-delivery notice: when the volunteer comes, no place.

For residents without smartphones: black on white, bold, nothing under 24 pt, the time slot
and the pickup point first, then what arrives, then how to collect. The lines are laid out
by ``poster_lines`` (pure, testable) and drawn by ``pickup_notice_pdf``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from api.render.base import FAMILY, MM_PER_PT, Page, day_hm, hm, local, month_day_zh
from api.render.fonts import CjkFont
from routing.sheets import NoticeLine, PickupNotice

MIN_POSTER_PT = 24
"""The smallest text on the poster, points."""

POSTER_SPACING = 1.25
"""Line height of the poster as a multiple of its font size."""

SCALES = (1.0, 0.9, 0.8, 0.7, 0.6)
"""Headline scales tried, largest first, until the poster fits one page."""

RULE_GAP_MM = 5.0
"""Space taken by a rule between the poster's sections."""

_HEADED = ("【", "取货时间", "取货地点", "送货时间", "本楼到货")
"""Prefixes of the chat message's lines that the poster already shows in its own layout."""


@dataclass(frozen=True)
class PosterLine:
    """One paragraph of the poster: text, size in points, bold, and a thick rule above it."""

    text: str
    size_pt: int
    bold: bool = False
    rule_above: bool = False


def _slot(notice: PickupNotice) -> tuple[str, str]:
    """(day, time span) of the pickup slot: ``4月15日（周五）``, ``09:40 – 12:00``."""
    start, end = local(notice.slot_start), local(notice.slot_end)
    day = month_day_zh(start.date())
    until = hm(end) if end.date() == start.date() else day_hm(end)
    return day, f"{hm(start)} – {until}"


def _goods(line: NoticeLine, pt: Callable[[int], int]) -> PosterLine:
    """What arrives of one category, with what was ordered when it is short."""
    name, unit = line.category.name_zh, line.category.unit
    ordered = f"（订购 {line.ordered_units}）" if line.units < line.ordered_units else ""
    return PosterLine(f"{name}  {line.units} {unit}{ordered}", pt(32), bold=True)


def _missing(lines: list[NoticeLine], pt: Callable[[int], int]) -> PosterLine:
    """The ordered categories that do not come today, named in one short paragraph so the
    poster keeps to one page however many there are (the quantities are on the leader's list)."""
    names = "、".join(line.category.name_zh for line in lines)
    return PosterLine(f"今日未到（已订购）：{names}", pt(28))


def poster_lines(
    notice: PickupNotice, scale: float = 1.0, compact: bool = False
) -> tuple[PosterLine, ...]:
    """The poster top to bottom: building, time slot, pickup point, goods, how to collect.

    ``scale`` shrinks the headline sizes to fit a page; no size goes under 24 pt.
    ``compact`` puts each heading on the line of what it heads (取货时间 4月15日), for a
    building with many categories.
    """

    def pt(size: int) -> int:
        return max(MIN_POSTER_PT, round(size * scale))

    day, span = _slot(notice)
    where = "（车辆到货的小区门口）" if notice.at_gate else "（团长指定）" if notice.pinned else ""
    head = [
        PosterLine(f"{notice.compound_name} {notice.building_name}", pt(30), bold=True),
        PosterLine(
            "团购到货 送货上门通知" if notice.door_delivery else "团购到货 取货通知",
            pt(30),
            bold=True,
        ),
    ]
    if notice.door_delivery:  # sealed: when the volunteer comes, no place to go to
        when_where = [
            PosterLine("志愿者送货上门时间", pt(24), bold=True, rule_above=True),
            PosterLine(day, pt(40), bold=True),
            PosterLine(span, pt(48), bold=True),
        ]
    elif compact:
        when_where = [
            PosterLine(f"取货时间 {day}", pt(24), bold=True, rule_above=True),
            PosterLine(span, pt(48), bold=True),
            PosterLine(f"取货地点 {notice.pickup_point}", pt(40), bold=True, rule_above=True),
        ]
    else:
        when_where = [
            PosterLine("取货时间", pt(24), bold=True, rule_above=True),
            PosterLine(day, pt(40), bold=True),
            PosterLine(span, pt(48), bold=True),
            PosterLine("取货地点", pt(24), bold=True, rule_above=True),
            PosterLine(notice.pickup_point, pt(40), bold=True),
        ]
    distance = (
        []
        if notice.door_delivery
        else [PosterLine(f"离本楼约 {notice.walking_m} 米{where}", pt(24))]
    )
    lines = [
        *head,
        *when_where,
        *distance,
        PosterLine("本楼到货", pt(24), bold=True, rule_above=True),
    ]
    lines.extend(_goods(line, pt) for line in notice.lines if line.units > 0)
    missing = [line for line in notice.lines if line.units == 0]
    if missing:
        lines.append(_missing(missing, pt))
    rest = [
        text
        for text in notice.message_zh.splitlines()
        if text.strip() and not text.startswith(_HEADED)
    ]
    for n, text in enumerate(rest):
        lines.append(PosterLine(text, pt(24), rule_above=n == 0))
    return tuple(lines)


def _height(pdf: Page, lines: tuple[PosterLine, ...]) -> float:
    """How tall ``lines`` print, mm."""
    total = 0.0
    for line in lines:
        pdf.set_font(FAMILY, "B" if line.bold else "", line.size_pt)
        total += len(pdf.lines(line.text)) * line.size_pt * MM_PER_PT * POSTER_SPACING
        total += RULE_GAP_MM if line.rule_above else 0.0
    return total


def fit_poster(pdf: Page, notice: PickupNotice) -> tuple[PosterLine, ...]:
    """The largest layout of ``notice`` that fits one page, headings on lines of their own if
    it can (else the compact layout; the smallest, over pages, if nothing fits)."""
    room = float(pdf.eph)
    for compact in (False, True):
        for scale in SCALES:
            lines = poster_lines(notice, scale, compact)
            if _height(pdf, lines) <= room:
                return lines
    return lines


def pickup_notice_pdf(notice: PickupNotice, *, font: CjkFont | None = None) -> bytes:
    """The pickup notice of one building as an A4 poster, PDF bytes; no text under 24 pt."""
    pdf = Page(
        title=f"取货通知 {notice.compound_name} {notice.building_name}",
        footer="",
        font=font,
    )
    for line in fit_poster(pdf, notice):
        if line.rule_above:
            pdf.gap(RULE_GAP_MM * 0.4)
            pdf.set_line_width(1.2)
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.width, pdf.get_y())
            pdf.gap(RULE_GAP_MM * 0.6)
        pdf.para(line.text, line.size_pt, bold=line.bold, spacing=POSTER_SPACING)
    return bytes(pdf.output())
