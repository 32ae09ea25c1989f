"""Printable documents of a day, as PDF and HTML: route sheets, sorting lists, notices, ledgers.

The documents come as data from ``routing.sheets`` (and group ledgers from
``matcher.ledger``); each renderer takes one document and returns PDF bytes or an HTML page,
and ``write_printables`` puts them beside the JSON that ``write_documents`` writes
(route_sheets/<vehicle>.pdf|.html, sorting_lists/<compound>…, sorting_lists_leader/<compound>…,
notices/<compound>/<building>…, ledgers/<group>…), with the plan map (plan_map.png) and the
dispatcher's overview (plan_overview.pdf). ``write_pdfs`` writes the PDFs only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from api.render.fonts import CjkFont, default_cjk_font, subset_cjk_font
from api.render.html import (
    leader_sorting_list_html,
    ledger_html,
    pickup_notice_html,
    route_sheet_html,
    sorting_list_html,
)
from api.render.ledger import ledger_pdf
from api.render.notice import pickup_notice_pdf
from api.render.plan_map import plan_map_png
from api.render.plan_overview import plan_overview_pdf
from api.render.route_sheet import route_sheet_pdf
from api.render.sorting_list import leader_sorting_list_pdf, sorting_list_pdf
from matcher.ledger import Ledger
from routing.sheets import DOCUMENT_FOLDERS, Documents

__all__ = [
    "leader_sorting_list_pdf",
    "ledger_pdf",
    "pickup_notice_pdf",
    "route_sheet_pdf",
    "sorting_list_pdf",
    "write_pdfs",
    "write_printables",
]

LEDGER_FOLDER = "ledgers"
PLAN_MAP = "plan_map.png"
PLAN_OVERVIEW = "plan_overview.pdf"
PRINTABLE_FOLDERS = (*DOCUMENT_FOLDERS, LEDGER_FOLDER)
"""The sub-folders whose PDF and HTML files ``write_printables`` owns."""

D = TypeVar("D")


@dataclass(frozen=True)
class Printed:
    """What ``write_printables`` wrote: paths relative to the folder, by format."""

    pdf: tuple[str, ...]
    html: tuple[str, ...]
    png: tuple[str, ...] = ()


def _clear_printables(folder: Path) -> None:
    """Remove PDFs, HTML pages and the plan map an earlier run left in the document folders."""
    for name in (PLAN_MAP, PLAN_OVERVIEW):
        (folder / name).unlink(missing_ok=True)
    for name in PRINTABLE_FOLDERS:
        sub = folder / name
        if sub.is_dir():
            for path in [*sub.rglob("*.pdf"), *sub.rglob("*.html")]:
                path.unlink()


def printed_text(documents: Documents, ledgers: Sequence[Ledger] = ()) -> str:
    """Every character the PDFs of ``documents`` can print: the documents' values, and the
    renderers' own labels, taken from their source files so a new label is never left out."""
    sources = sorted(Path(__file__).parent.glob("*.py"))
    values = documents.model_dump_json() + "".join(x.model_dump_json() for x in ledgers)
    return values + "".join(p.read_text(encoding="utf-8") for p in sources)


def _selected(documents: Documents, compounds: Collection[str] | None) -> Documents:
    """``documents`` cut down to the compounds' sorting lists and notices (all route sheets)."""
    if compounds is None:
        return documents
    wanted = set(compounds)
    return documents.model_copy(
        update={
            "sorting_lists": tuple(s for s in documents.sorting_lists if s.compound_id in wanted),
            "leader_sorting_lists": tuple(
                s for s in documents.leader_sorting_lists if s.sorting_list.compound_id in wanted
            ),
            "pickup_notices": tuple(n for n in documents.pickup_notices if n.compound_id in wanted),
        }
    )


def write_printables(
    documents: Documents,
    folder: Path,
    *,
    ledgers: Sequence[Ledger] = (),
    compounds: Collection[str] | None = None,
    formats: Collection[str] = ("pdf", "html"),
    font: CjkFont | None = None,
    progress: Callable[[int], None] | None = None,
) -> Printed:
    """Write the documents as PDF and/or HTML under ``folder``; returns what was written.

    Every route sheet and ledger is written; sorting lists and notices only for
    ``compounds`` (all when None). The leader's lists go to sorting_lists_leader/
    (household data: leaders only). The font is looked up first, so a missing one fails
    before any file is touched, then cut down to the characters the day prints
    (``subset_cjk_font``) so each PDF takes a fraction of the time. ``progress`` is called
    with the number of documents done after each one.
    """
    chosen = _selected(documents, compounds)
    want_pdf, want_html = "pdf" in formats, "html" in formats
    cjk = (font or default_cjk_font()) if want_pdf else None
    folder.mkdir(parents=True, exist_ok=True)
    _clear_printables(folder)
    pdfs: list[str] = []
    pages: list[str] = []
    done = 0

    def each(
        items: Sequence[D],
        to_pdf: Callable[[D, CjkFont], bytes],
        to_html: Callable[[D], str],
        where: Callable[[D], tuple[str, ...]],
        small: CjkFont | None,
    ) -> None:
        nonlocal done
        for item in items:
            *parts, stem = where(item)
            target = folder.joinpath(*parts)
            target.mkdir(parents=True, exist_ok=True)
            if small is not None:
                (target / f"{stem}.pdf").write_bytes(to_pdf(item, small))
                pdfs.append("/".join((*parts, f"{stem}.pdf")))
            if want_html:
                (target / f"{stem}.html").write_text(to_html(item), encoding="utf-8")
                pages.append("/".join((*parts, f"{stem}.html")))
            done += 1
            if progress is not None:
                progress(done)

    with tempfile.TemporaryDirectory(prefix="linli-fonts-") as fonts:
        small = (
            subset_cjk_font(printed_text(chosen, ledgers), Path(fonts), cjk)
            if cjk is not None
            else None
        )
        each(
            chosen.route_sheets,
            lambda s, f: route_sheet_pdf(s, font=f),
            route_sheet_html,
            lambda s: ("route_sheets", s.vehicle_id),
            small,
        )
        each(
            chosen.sorting_lists,
            lambda s, f: sorting_list_pdf(s, font=f),
            sorting_list_html,
            lambda s: ("sorting_lists", s.compound_id),
            small,
        )
        each(
            chosen.leader_sorting_lists,
            lambda s, f: leader_sorting_list_pdf(s, font=f),
            leader_sorting_list_html,
            lambda s: ("sorting_lists_leader", s.sorting_list.compound_id),
            small,
        )
        each(
            chosen.pickup_notices,
            lambda n, f: pickup_notice_pdf(n, font=f),
            pickup_notice_html,
            lambda n: ("notices", n.compound_id, n.building_id),
            small,
        )
        each(
            ledgers,
            lambda x, f: ledger_pdf(x, font=f),
            ledger_html,
            lambda x: (LEDGER_FOLDER, x.group_id),
            small,
        )
        pngs: list[str] = []
        if small is not None and chosen.route_sheets:
            day = chosen.delivery_date
            title = f"{day.year}年{day.month}月{day.day}日 配送计划 delivery plan"
            picture = plan_map_png(chosen.route_sheets, title=title, font=cjk)
            (folder / PLAN_MAP).write_bytes(picture)
            pngs.append(PLAN_MAP)
            overview = plan_overview_pdf(chosen.route_sheets, picture, day=day, font=small)
            (folder / PLAN_OVERVIEW).write_bytes(overview)
            pdfs.append(PLAN_OVERVIEW)
    return Printed(pdf=tuple(pdfs), html=tuple(pages), png=tuple(pngs))


def write_pdfs(
    documents: Documents, folder: Path, *, font: CjkFont | None = None
) -> tuple[str, ...]:
    """Write every document of ``documents`` as PDF under ``folder``; returns their paths."""
    return write_printables(documents, folder, formats=("pdf",), font=font).pdf
