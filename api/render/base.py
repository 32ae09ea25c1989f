"""The A4 page every PDF document is drawn on: the CJK font, margins, footer, text helpers.

Sizes are in points for text and millimetres for positions (fpdf2's ``unit="mm"``); text is
black on white so photocopies and low-vision readers keep it legible.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Sequence

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from api.render.fonts import CjkFont, default_cjk_font
from data.schemas import SHANGHAI

FAMILY = "linli-cjk"
"""The name the CJK font is registered under in every document."""

MM_PER_PT = 25.4 / 72
MARGIN_MM = 12.0
GRID_PADDING_MM = 0.8
LINE_SPACING = 1.35
"""Line height as a multiple of the font size."""

_WEEKDAY_ZH = "一二三四五六日"


class Page(FPDF):
    """An A4 portrait document with the CJK font registered and a numbered footer."""

    def __init__(self, title: str, footer: str, font: CjkFont | None = None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        cjk = font or default_cjk_font()
        self.add_font(FAMILY, "", cjk.regular.path, collection_font_number=cjk.regular.index)
        self.add_font(FAMILY, "B", cjk.bold.path, collection_font_number=cjk.bold.index)
        for face in self.fonts.values():
            # fpdf2 re-saves the embedded subset; recomputing glyph bounds of CJK outlines on
            # every save costs about a second per document and changes nothing printed
            ttfont = getattr(face, "ttfont", None)
            if ttfont is not None:
                ttfont.recalcBBoxes = False
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(auto=True, margin=MARGIN_MM + 4)
        self.set_title(title)
        self.set_creator("linli")
        self.set_lang("zh-CN")
        self.footer_text = footer
        self.set_text_color(0)
        self.set_draw_color(0)
        self.add_page()

    def footer(self) -> None:
        """Page n of N and the document's footer line, so loose pages can be put back.

        A document with an empty footer line (the poster) gets no footer at all."""
        if not self.footer_text:
            return
        self.set_y(-MARGIN_MM)
        self.set_font(FAMILY, "", 8)
        self.cell(0, 4, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, f"第 {self.page_no()} / {{nb}} 页", align="R")

    @property
    def width(self) -> float:
        """Printable width between the margins, mm."""
        return float(self.epw)

    def line_mm(self, size_pt: float) -> float:
        """Line height in mm for text of ``size_pt``."""
        return size_pt * MM_PER_PT * LINE_SPACING

    def para(
        self, text: str, size_pt: float = 10, bold: bool = False, spacing: float = LINE_SPACING
    ) -> None:
        """A paragraph across the printable width, wrapped by ``wrap_lines``."""
        self.set_font(FAMILY, "B" if bold else "", size_pt)
        for line in self.lines(text):
            self.cell(
                self.width,
                size_pt * MM_PER_PT * spacing,
                line,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )

    def lines(self, text: str) -> list[str]:
        """``text`` wrapped to the printable width in the current font."""
        return wrap_lines(text, self.width, self.get_string_width)

    def gap(self, mm: float = 2) -> None:
        """Vertical space."""
        self.ln(mm)

    def grid(
        self,
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        size_pt: float = 9,
        align: Sequence[str] | None = None,
    ) -> None:
        """A bordered table whose first row is the heading, repeated after a page break."""
        self.set_font(FAMILY, "", size_pt)
        heading = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
        with self.table(
            col_widths=tuple(widths),
            width=self.width,
            headings_style=heading,
            line_height=self.line_mm(size_pt),
            text_align=tuple(align) if align else "LEFT",
            wrapmode=WrapMode.CHAR,
            repeat_headings=1,
            padding=GRID_PADDING_MM,
        ) as table:
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(value)
        self.set_x(self.l_margin)

    def grid_height(
        self, rows: Sequence[Sequence[str]], widths: Sequence[float], size_pt: float = 9
    ) -> float:
        """About how tall ``grid`` draws these rows, mm: to keep a block on one page."""
        self.set_font(FAMILY, "", size_pt)
        scale = self.width / sum(widths)
        line = self.line_mm(size_pt)
        total = 0.0
        for values in rows:
            most = 1
            for value, width in zip(values, widths, strict=True):
                lines = self.multi_cell(
                    width * scale - 2 * GRID_PADDING_MM,
                    line,
                    value,
                    wrapmode=WrapMode.CHAR,
                    dry_run=True,
                    output="LINES",
                )
                assert isinstance(lines, list)
                most = max(most, len(lines))
            total += most * line + 2 * GRID_PADDING_MM
        return total


_CLOSING = set("，。、；：！？）》」』】〉”’,.;:!?)]}%")
"""Marks that never start a line: they hang past the right edge instead (禁则)."""
_OPENING = set("（《「『【〈“‘([{")
"""Marks that never end a line: they move down with the character they open."""


def _wide(char: str) -> bool:
    """A character that may be broken before or after: Chinese, full-width marks."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def _tokens(text: str) -> list[str]:
    """Break units: a run of Latin letters, digits and marks (``09:40–12:00``), a space, or
    one wide character."""
    tokens: list[str] = []
    for char in text:
        narrow = not char.isspace() and not _wide(char)
        previous = tokens[-1][-1] if tokens else " "
        if narrow and not previous.isspace() and not _wide(previous):
            tokens[-1] += char
        else:
            tokens.append(char)
    return tokens


def _fits(line: str, width: float, measure: Callable[[str], float]) -> bool:
    """``line`` fits ``width``, a closing mark at its end allowed to hang past it."""
    if measure(line) <= width:
        return True
    return len(line) > 1 and line[-1] in _CLOSING and measure(line[:-1]) <= width


def wrap_lines(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """``text`` broken into lines no wider than ``width`` as ``measure`` says.

    Chinese breaks between any two characters, Latin words and numbers such as ``09:40``
    stay whole unless longer than a line, closing marks (，。）) hang rather than start a
    line, and opening marks (（《) move down with what they open. Newlines are kept.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph):
            if not line and token.isspace():
                continue
            if not line or token in _CLOSING or measure(line + token) <= width:
                line += token
            else:
                carry = ""
                while line and line[-1] in _OPENING:
                    line, carry = line[:-1], line[-1] + carry
                if line.strip():
                    lines.append(line.rstrip())
                line = carry + ("" if token.isspace() else token)
            while not _fits(line, width, measure) and len(line) > 1:  # a word too long
                cut = max(1, max(n for n in range(len(line) + 1) if measure(line[:n]) <= width))
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


def local(moment: dt.datetime) -> dt.datetime:
    """``moment`` in Shanghai time."""
    return moment.astimezone(SHANGHAI)


def hm(moment: dt.datetime, day: dt.date | None = None) -> str:
    """``HH:MM`` in Shanghai time, with the date in front when it is not ``day``."""
    at = local(moment)
    if day is None or at.date() == day:
        return f"{at:%H:%M}"
    return f"{at.month}月{at.day}日 {at:%H:%M}"


def day_hm(moment: dt.datetime) -> str:
    """``4月15日 20:00`` in Shanghai time."""
    at = local(moment)
    return f"{at.month}月{at.day}日 {at:%H:%M}"


def date_zh(day: dt.date) -> str:
    """``2022年4月15日（周五）``."""
    return f"{day.year}年{month_day_zh(day)}"


def month_day_zh(day: dt.date) -> str:
    """``4月15日（周五）``."""
    return f"{day.month}月{day.day}日（周{_WEEKDAY_ZH[day.weekday()]}）"


def km(metres: int) -> str:
    """Distance for people: ``850 米`` or ``12.3 公里``."""
    return f"{metres} 米" if metres < 1000 else f"{metres / 1000:.1f} 公里"


def minutes(seconds: int) -> str:
    """Duration for people: ``45 分钟`` or ``2 小时 5 分钟``."""
    total = round(seconds / 60)
    hours, rest = divmod(total, 60)
    return f"{hours} 小时 {rest} 分钟" if hours else f"{rest} 分钟"
