"""Daily reports (日报): a compound's for its leaders and committee, a committee's across its
compounds; JSON, the chat-group text, or an HTML page. Aggregates only, no household."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.daily_report import CommitteeReport, DailyReport, committee_report, daily_report
from api.deps import StoreDep, User, require
from api.errors import ApiError, not_found
from api.render.html import daily_report_html
from api.routes.schedule import allow_schedule, compound_schedule
from api.security import Role
from data.store import Store

router = APIRouter(tags=["reports"])


class ReportFormat(enum.StrEnum):
    """How a report is answered."""

    json = "json"
    text = "text"
    html = "html"


DayQuery = Annotated[dt.date, Query(alias="date", description="delivery date")]


def _report(store: Store, request: Request, compound_id: str, day: dt.date) -> DailyReport:
    compound = store.compound(compound_id)
    if compound is None:
        raise not_found("compound", compound_id)
    schedule = compound_schedule(store, compound_id, day, request.app.state.demand)
    with store.engine.connect() as conn:
        return daily_report(
            conn, compound_id=compound_id, compound_name=compound.name, day=day, schedule=schedule
        )


def _answer(
    report: DailyReport | CommitteeReport,
    reports: list[DailyReport],
    form: ReportFormat,
    title: str,
) -> DailyReport | CommitteeReport | Response:
    if form is ReportFormat.text:
        text = f"{report.text_zh}\n\n{report.text_en}\n"
        return Response(text, media_type="text/plain; charset=utf-8")
    if form is ReportFormat.html:
        page = daily_report_html(reports, title)
        return Response(page, media_type="text/html; charset=utf-8")
    return report


@router.get("/compounds/{compound_id}/daily-report", response_model=DailyReport)
def compound_daily_report(
    compound_id: str,
    request: Request,
    store: StoreDep,
    user: User,
    day: DayQuery,
    format: ReportFormat = ReportFormat.json,
) -> DailyReport | Response:
    """The compound's day: groups, arrivals per gate, hand-outs, claims, ledgers (its
    leaders, the committee scoped to it, an admin)."""
    allow_schedule(user, compound_id)
    report = _report(store, request, compound_id, day)
    answered = _answer(report, [report], format, f"日报 {report.compound_name} {day}")
    assert not isinstance(answered, CommitteeReport)
    return answered


@router.get("/committee/daily-report", response_model=CommitteeReport)
def committee_daily_report(
    request: Request,
    store: StoreDep,
    user: User,
    day: DayQuery,
    compound: Annotated[
        list[str] | None,
        Query(description="compound_id (repeatable); default every compound of the committee"),
    ] = None,
    format: ReportFormat = ReportFormat.json,
) -> CommitteeReport | Response:
    """Every compound of the committee on the day, with totals (a committee or an admin)."""
    require(user, Role.committee, Role.admin)
    chosen = compound or list(user.compound_ids)
    if not chosen:
        raise ApiError(422, "invalid_request", "name the compounds: ?compound=ID", "compound")
    for compound_id in chosen:
        allow_schedule(user, compound_id)
    reports = [_report(store, request, c, day) for c in chosen]
    summary = committee_report(day, reports)
    answered = _answer(summary, reports, format, f"居委会日报 {day}")
    assert not isinstance(answered, DailyReport)
    return answered
