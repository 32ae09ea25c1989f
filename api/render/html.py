"""The day's documents as printable HTML pages (Jinja2): the same content as the PDFs.

HTML opens on any phone and prints from any browser, and its text can be copied into the
chat group; the PDFs are for printers and walls. Values are escaped by Jinja2's autoescape,
so a resident's name can never inject markup. The labels and the poster's layout come from
the PDF renderers, so both formats always say the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from api.render.base import date_zh, hm, km, minutes
from api.render.handout import handout_rows, slot_text, step_lines
from api.render.ledger import amount_rows, fact_rows, history_rows
from api.render.notice import poster_lines
from api.render.route_sheet import buildings_text, load_rows, validity
from api.render.sorting_list import category_label, category_names, flags_zh, place_text
from matcher.ledger import Ledger
from routing.handout import HandoutSheet
from routing.sheets import HouseholdLine, LeaderSortingList, PickupNotice, RouteSheet, SortingList

if TYPE_CHECKING:
    from api.daily_report import DailyReport


def _hm(moment: dt.datetime, day: dt.date | None = None) -> str:
    return hm(moment, day)


@cache
def environment() -> Environment:
    """The template environment: package templates, autoescape, undefined names fail."""
    env = Environment(
        loader=PackageLoader("api.render", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        hm=_hm,
        date_zh=date_zh,
        km=km,
        minutes=minutes,
        buildings=buildings_text,
        label=category_label,
        flags=flags_zh,
        place=place_text,
    )
    return env


def route_sheet_html(sheet: RouteSheet) -> str:
    """The route sheet of one vehicle as an HTML page, with a navigation link per stop."""
    driver = sheet.driver_name or "未指派 unassigned"
    day = sheet.delivery_date.isoformat()
    return (
        environment()
        .get_template("route_sheet.html.j2")
        .render(
            title=f"配送路线单 {sheet.plate} {day}",
            footer=f"配送路线单 {sheet.plate} · {driver} · {day} · linli",
            sheet=sheet,
            certificates=(
                ("车辆通行证 vehicle pass", validity(sheet.vehicle_pass_valid_until, sheet)),
                ("司机核酸 48 小时 driver test", validity(sheet.driver_test_valid_until, sheet)),
            ),
            load=load_rows(sheet),
        )
    )


def _sorting_html(sorting: SortingList, households: list[tuple[str, list[HouseholdLine]]] | None,
                  title: str, footer: str) -> str:  # fmt: skip
    return (
        environment()
        .get_template("sorting_list.html.j2")
        .render(
            title=title,
            footer=footer,
            sorting=sorting,
            names=category_names(sorting),
            households=households,
        )
    )


def sorting_list_html(sorting: SortingList) -> str:
    """The aggregate sorting list of one compound as an HTML page: no household data."""
    day = sorting.delivery_date.isoformat()
    return _sorting_html(
        sorting,
        None,
        f"分拣单 {sorting.compound_name} {day}",
        f"分拣单 {sorting.compound_name} · {day} · 不含住户信息 no household data · linli",
    )


def leader_sorting_list_html(leader_list: LeaderSortingList) -> str:
    """The leader's sorting list as an HTML page: the aggregate list plus household lines."""
    sorting = leader_list.sorting_list
    by_building: dict[str, list[HouseholdLine]] = {}
    for line in leader_list.households:
        by_building.setdefault(line.building_id, []).append(line)
    day = sorting.delivery_date.isoformat()
    return _sorting_html(
        sorting,
        [(lines[0].building_name, lines) for lines in by_building.values()],
        f"团长分拣单 {sorting.compound_name} {day}",
        f"团长分拣单 {sorting.compound_name} · {day} · 含住户个人信息，仅限团长，请勿外传 · linli",
    )


def pickup_notice_html(notice: PickupNotice) -> str:
    """The pickup notice of one building as a large-font HTML poster."""
    return (
        environment()
        .get_template("notice.html.j2")
        .render(
            title=f"取货通知 {notice.compound_name} {notice.building_name}",
            footer="linli",
            lines=poster_lines(notice),
        )
    )


def ledger_html(ledger: Ledger) -> str:
    """The group's public ledger as an HTML page: prices, fees, commission, history."""
    return (
        environment()
        .get_template("ledger.html.j2")
        .render(
            title=f"团购账本 {ledger.compound_name} {ledger.package_name or ledger.category_id}",
            footer=f"团购账本 {ledger.group_id} · 无住户信息，可公开张贴 · linli",
            ledger=ledger,
            facts=fact_rows(ledger),
            amounts=amount_rows(ledger),
            history=history_rows(ledger),
        )
    )


def handout_html(sheet: HandoutSheet) -> str:
    """A building's hand-out sheet as an HTML page for its volunteers: rooms only, no names."""
    day = sheet.delivery_date.isoformat()
    return (
        environment()
        .get_template("handout.html.j2")
        .render(
            title=f"派发单 {sheet.compound_name} {sheet.building_name} {day}",
            footer=f"派发单 {sheet.building_name} · {day} · 仅房号 rooms only · linli",
            sheet=sheet,
            slot=slot_text(sheet),
            steps=step_lines(sheet),
            rows=handout_rows(sheet),
        )
    )


def daily_report_html(reports: Sequence[DailyReport], title: str) -> str:
    """Daily reports (one compound, or a committee's) as one page: chat text and group table."""
    return (
        environment()
        .get_template("daily_report.html.j2")
        .render(
            title=title,
            footer=f"{title} · 无住户信息 no household data · linli",
            reports=list(reports),
        )
    )
