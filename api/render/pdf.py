"""Printable PDFs of a day's documents: route sheets, sorting lists, pickup notices.

The documents come as data from ``routing.sheets``; each renderer takes one document and
returns PDF bytes, and ``write_pdfs`` puts them beside the JSON that ``write_documents``
writes (route_sheets/<vehicle>.pdf, sorting_lists/<compound>.pdf,
sorting_lists_leader/<compound>.pdf, notices/<compound>/<building>.pdf).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from api.render.fonts import CjkFont, default_cjk_font, subset_cjk_font
from api.render.notice import pickup_notice_pdf
from api.render.route_sheet import route_sheet_pdf
from api.render.sorting_list import leader_sorting_list_pdf, sorting_list_pdf
from routing.sheets import DOCUMENT_FOLDERS, Documents

__all__ = [
    "leader_sorting_list_pdf",
    "pickup_notice_pdf",
    "route_sheet_pdf",
    "sorting_list_pdf",
    "write_pdfs",
]


def _clear_pdfs(folder: Path) -> None:
    """Remove PDFs an earlier run left in the document folders, so none is stale."""
    for name in DOCUMENT_FOLDERS:
        sub = folder / name
        if sub.is_dir():
            for path in sub.rglob("*.pdf"):
                path.unlink()


def printed_text(documents: Documents) -> str:
    """Every character the PDFs of ``documents`` can print: the documents' values, and the
    renderers' own labels, taken from their source files so a new label is never left out."""
    sources = sorted(Path(__file__).parent.glob("*.py"))
    return documents.model_dump_json() + "".join(p.read_text(encoding="utf-8") for p in sources)


def write_pdfs(
    documents: Documents, folder: Path, *, font: CjkFont | None = None
) -> tuple[str, ...]:
    """Write every document of ``documents`` as PDF under ``folder``; returns their paths.

    Paths are relative to ``folder`` with ``/``, in the layout of ``write_documents``; the
    leader's lists go to sorting_lists_leader/ (household data: leaders only). The font is
    looked up first, so a missing one fails before any file is touched, then cut down to
    the characters the day prints (``subset_cjk_font``) so each PDF takes a fraction of
    the time.
    """
    cjk = font or default_cjk_font()
    folder.mkdir(parents=True, exist_ok=True)
    _clear_pdfs(folder)
    written: list[str] = []

    def write(content: bytes, *parts: str) -> None:
        path = folder.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append("/".join(parts))

    with tempfile.TemporaryDirectory(prefix="linli-fonts-") as fonts:
        small = subset_cjk_font(printed_text(documents), Path(fonts), cjk)
        for sheet in documents.route_sheets:
            write(route_sheet_pdf(sheet, font=small), "route_sheets", f"{sheet.vehicle_id}.pdf")
        for sorting in documents.sorting_lists:
            write(
                sorting_list_pdf(sorting, font=small),
                "sorting_lists",
                f"{sorting.compound_id}.pdf",
            )
        for leader in documents.leader_sorting_lists:
            write(
                leader_sorting_list_pdf(leader, font=small),
                "sorting_lists_leader",
                f"{leader.sorting_list.compound_id}.pdf",
            )
        for notice in documents.pickup_notices:
            write(
                pickup_notice_pdf(notice, font=small),
                "notices",
                notice.compound_id,
                f"{notice.building_id}.pdf",
            )
    return tuple(written)
