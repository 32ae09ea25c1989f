"""The daily report (日报) of a compound, and of a committee across its compounds.

What happened on one delivery date, from the store: groups formed, failed (and where their
demand went), trucks per gate from the current plan, hand-out progress per building,
claims open and settled, and whether every group's ledger balances. Aggregates only (no
household), so a leader can paste its text into the chat group as it is.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import Field
from sqlalchemy import Connection, select

from api.aftersales import claims_of_groups
from api.group_store import group_balance, load_group
from data.schemas import Identifier, Model
from data.tables import (
    GroupBuyRow,
    GroupCompoundRow,
    HandoutStepRow,
    OfferRow,
    table_of,
)
from matcher.claims import Claim, ClaimState
from matcher.groups import GroupState
from routing.schedule import ArrivalSchedule

_GROUPS = table_of(GroupBuyRow)
_GROUP_COMPOUNDS = table_of(GroupCompoundRow)
_OFFERS = table_of(OfferRow)
_STEPS = table_of(HandoutStepRow)

OPEN_CLAIMS = frozenset({ClaimState.filed, ClaimState.rejected, ClaimState.escalated})
"""Claims still waiting for an answer, an appeal or the committee's decision."""

HANDOUT_STEPS = ("received", "disinfected", "handed_out")


class GroupLine(Model):
    """One group of the day as the report shows it."""

    group_id: str
    supplier_id: Identifier
    category_id: Identifier
    package_name: str
    state: GroupState
    pooled_with: tuple[Identifier, ...] = Field(description="the other compounds of a pool")
    committed_units: int
    threshold_units: int
    ordered_units: int | None
    rematched_from: str | None
    rematched_to: tuple[str, ...] = Field(description="groups that took over a failed group")
    balanced: bool
    difference_cents: int = Field(description="ledger: net payments − expected; 0 balanced")
    lines_off: int = Field(description="sign-up lines whose payments differ from their due")
    claim_refunds_cents: int = Field(description="refunds recorded for the group's claims")


class GateLine(Model):
    """Trucks at one gate on the day, from the current plan."""

    gate_id: Identifier
    gate_name: str
    arrivals: int
    first_eta: dt.datetime | None
    last_eta: dt.datetime | None
    over_limit: bool


class HandoutLine(Model):
    """How far a building's hand-out got: the last step recorded per delivery."""

    building_id: Identifier
    deliveries: int
    received: int
    disinfected: int
    handed_out: int


class ClaimCount(Model):
    """Claims of the compound's groups by state."""

    open: int
    settled: int
    by_state: dict[str, int]
    refunded_cents: int = Field(description="refunds recorded for the groups' claims")


class DailyReport(Model):
    """A compound's day in numbers, with the text to paste into the chat group."""

    compound_id: Identifier
    compound_name: str
    delivery_date: dt.date
    groups: tuple[GroupLine, ...]
    groups_by_state: dict[str, int]
    gates: tuple[GateLine, ...]
    planned: bool = Field(description="a plan of the day exists (else no arrivals yet)")
    handouts: tuple[HandoutLine, ...]
    claims: ClaimCount
    ledgers_balanced: int
    ledgers_off: int
    text_zh: str
    text_en: str


class CommitteeReport(Model):
    """A committee's compounds on one day: each compound's report and the totals."""

    delivery_date: dt.date
    compounds: tuple[DailyReport, ...]
    groups_by_state: dict[str, int]
    claims_open: int
    claims_settled: int
    ledgers_off: int
    gates_over_limit: int
    text_zh: str
    text_en: str


def day_group_ids(conn: Connection, compound_id: str, day: dt.date) -> list[str]:
    """The groups delivering to ``compound_id`` on ``day``: its own and pools it joined."""
    pooled = select(_GROUP_COMPOUNDS.c.group_id).where(
        _GROUP_COMPOUNDS.c.compound_id == compound_id
    )
    query = (
        select(_GROUPS.c.group_id)
        .join(_OFFERS, _OFFERS.c.offer_id == _GROUPS.c.offer_id)
        .where(
            (_GROUPS.c.compound_id == compound_id) | _GROUPS.c.group_id.in_(pooled),
            _OFFERS.c.delivery_date == day,
        )
        .order_by(_GROUPS.c.created_at, _GROUPS.c.group_id)
    )
    return list(conn.execute(query).scalars())


def _group_lines(conn: Connection, compound_id: str, group_ids: Sequence[str]) -> list[GroupLine]:
    offers = {
        r["offer_id"]: r
        for r in conn.execute(
            select(_OFFERS.c.offer_id, _OFFERS.c.package_name, _OFFERS.c.unit_price_cents)
        ).mappings()
    }
    stored = [s for s in (load_group(conn, group_id=g) for g in group_ids) if s is not None]
    successors: dict[str, list[str]] = {}
    for s in stored:
        if s.group.rematched_from:
            successors.setdefault(s.group.rematched_from, []).append(s.group_id)
    lines = []
    for s in stored:
        group, offer = s.group, offers[s.group.offer_id]
        balance = group_balance(conn, s, int(offer["unit_price_cents"]))
        lines.append(
            GroupLine(
                group_id=group.group_id,
                supplier_id=group.supplier_id,
                category_id=group.category_id,
                package_name=str(offer["package_name"]),
                state=group.state,
                pooled_with=tuple(c for c in s.leaders if c != compound_id),
                committed_units=group.committed_units,
                threshold_units=group.threshold_units,
                ordered_units=group.ordered_units,
                rematched_from=group.rematched_from,
                rematched_to=tuple(successors.get(group.group_id, ())),
                balanced=balance.balanced,
                difference_cents=balance.difference_cents,
                lines_off=len(balance.flagged),
                claim_refunds_cents=balance.credits_cents,
            )
        )
    return lines


def _handouts(conn: Connection, compound_id: str, day: dt.date) -> list[HandoutLine]:
    rows = conn.execute(
        select(_STEPS.c.building_id, _STEPS.c.delivery_key, _STEPS.c.step).where(
            _STEPS.c.compound_id == compound_id, _STEPS.c.delivery_date == day
        )
    ).all()
    done: dict[str, dict[str, set[str]]] = {}
    for building_id, key, step in rows:
        done.setdefault(building_id, {}).setdefault(key, set()).add(step)
    return [
        HandoutLine(
            building_id=building_id,
            deliveries=len(per_key),
            **{
                step: sum(1 for steps in per_key.values() if step in steps)
                for step in HANDOUT_STEPS
            },
        )
        for building_id, per_key in sorted(done.items())
    ]


def _claims(claims: Sequence[Claim], groups: Sequence[GroupLine]) -> ClaimCount:
    states = Counter(str(c.state) for c in claims)
    return ClaimCount(
        open=sum(1 for c in claims if c.state in OPEN_CLAIMS),
        settled=sum(1 for c in claims if c.state not in OPEN_CLAIMS),
        by_state=dict(sorted(states.items())),
        refunded_cents=sum(g.claim_refunds_cents for g in groups),
    )


def _gates(schedule: ArrivalSchedule | None) -> list[GateLine]:
    if schedule is None:
        return []
    return [
        GateLine(
            gate_id=g.gate_id,
            gate_name=g.gate_name,
            arrivals=len(g.arrivals),
            first_eta=min((a.eta for a in g.arrivals), default=None),
            last_eta=max((a.eta for a in g.arrivals), default=None),
            over_limit=g.over_limit,
        )
        for g in schedule.gates
    ]


def daily_report(
    conn: Connection,
    *,
    compound_id: str,
    compound_name: str,
    day: dt.date,
    schedule: ArrivalSchedule | None,
) -> DailyReport:
    """The report of one compound on ``day``; ``schedule`` is None when nothing is planned."""
    groups = _group_lines(conn, compound_id, day_group_ids(conn, compound_id, day))
    claims = claims_of_groups(conn, [g.group_id for g in groups])
    claims = [c for c in claims if c.compound_id == compound_id]
    parts: dict[str, Any] = {
        "compound_id": compound_id,
        "compound_name": compound_name,
        "delivery_date": day,
        "groups": tuple(groups),
        "groups_by_state": dict(sorted(Counter(str(g.state) for g in groups).items())),
        "gates": tuple(_gates(schedule)),
        "planned": schedule is not None,
        "handouts": tuple(_handouts(conn, compound_id, day)),
        "claims": _claims(claims, groups),
        "ledgers_balanced": sum(1 for g in groups if g.balanced),
        "ledgers_off": sum(1 for g in groups if not g.balanced),
    }
    zh, en = _texts(parts)
    return DailyReport(**parts, text_zh=zh, text_en=en)


_STATE_ZH = {
    "open": "接龙中",
    "formed": "已成团",
    "failed": "未成团",
    "matched": "已匹配",
    "dispatched": "已发车",
    "delivered": "已送达",
    "settled": "已结算",
}


def _yuan(cents: int) -> str:
    return f"¥{cents / 100:,.2f}"


def _texts(p: dict[str, Any]) -> tuple[str, str]:
    """The chat-group text of a compound's report, in Chinese and English."""
    day: dt.date = p["delivery_date"]
    groups: tuple[GroupLine, ...] = p["groups"]
    gates: tuple[GateLine, ...] = p["gates"]
    handouts: tuple[HandoutLine, ...] = p["handouts"]
    claims: ClaimCount = p["claims"]
    states = p["groups_by_state"]
    zh = [f"【{p['compound_name']} {day:%m月%d日} 日报】"]
    en = [f"{p['compound_name']}: daily report for {day:%Y-%m-%d}"]
    if groups:
        zh.append(
            f"团购 {len(groups)} 个:"
            + ",".join(f"{_STATE_ZH.get(s, s)} {n}" for s, n in states.items())
        )
        en.append(
            f"Groups: {len(groups)} (" + ", ".join(f"{s} {n}" for s, n in states.items()) + ")"
        )
    else:
        zh.append("今日没有团购。")
        en.append("No groups today.")
    for g in groups:
        pooled_zh = f",与 {'、'.join(g.pooled_with)} 拼团" if g.pooled_with else ""
        pooled_en = f", pooled with {', '.join(g.pooled_with)}" if g.pooled_with else ""
        zh.append(
            f"· {g.package_name}({g.supplier_id}):{_STATE_ZH.get(g.state, g.state)},"
            f"接龙 {g.committed_units}/{g.threshold_units} 份{pooled_zh}"
        )
        en.append(
            f"- {g.package_name} ({g.supplier_id}): {g.state}, {g.committed_units} of "
            f"{g.threshold_units} units signed up{pooled_en}"
        )
        if g.state is GroupState.failed:
            moved = "、".join(g.rematched_to)
            zh.append(f"  未成团,需求已改派至 {moved}" if moved else "  未成团,暂无改派")
            en.append(f"  failed; demand moved to {moved}" if moved else "  failed; not moved")
    if not p["planned"]:
        zh.append("到货:今日尚未排车。")
        en.append("Arrivals: no delivery plan yet.")
    for gate in gates:
        if gate.arrivals and gate.first_eta and gate.last_eta:
            span = f"{gate.first_eta:%H:%M}-{gate.last_eta:%H:%M}"
            zh.append(
                f"到货 {gate.gate_name}:{gate.arrivals} 车,{span}"
                + (",有超过门口车位的时段" if gate.over_limit else "")
            )
            en.append(
                f"Arrivals at {gate.gate_name}: {gate.arrivals} trucks, {span}"
                + (", more trucks than the gate takes at some time" if gate.over_limit else "")
            )
    if handouts:
        done = sum(1 for h in handouts if h.handed_out == h.deliveries)
        zh.append(f"分发:{done}/{len(handouts)} 栋楼已发放完毕。")
        en.append(f"Hand-out: {done} of {len(handouts)} buildings done.")
    zh.append(
        f"售后:待处理 {claims.open} 件,已处理 {claims.settled} 件"
        + (f",退款 {_yuan(claims.refunded_cents)}" if claims.refunded_cents else "")
        + "。"
    )
    en.append(
        f"Claims: {claims.open} open, {claims.settled} settled"
        + (f", {_yuan(claims.refunded_cents)} refunded" if claims.refunded_cents else "")
        + "."
    )
    off = [g for g in groups if not g.balanced]
    if off:
        gaps_zh = [f"{g.group_id} 差 {_yuan(g.difference_cents)}({g.lines_off} 行)" for g in off]
        gaps_en = [f"{g.group_id} {_yuan(g.difference_cents)} ({g.lines_off} lines)" for g in off]
        zh.append("账目:" + ";".join(gaps_zh))
        en.append("Ledgers off: " + "; ".join(gaps_en))
    elif groups:
        zh.append("账目:全部平衡。")
        en.append("Ledgers: all balanced.")
    return "\n".join(zh), "\n".join(en)


def committee_report(day: dt.date, reports: Sequence[DailyReport]) -> CommitteeReport:
    """A committee's compounds on ``day``: totals and each compound's text."""
    states: Counter[str] = Counter()
    for report in reports:
        states.update(report.groups_by_state)
    claims_open = sum(r.claims.open for r in reports)
    claims_settled = sum(r.claims.settled for r in reports)
    off = sum(r.ledgers_off for r in reports)
    over = sum(1 for r in reports for g in r.gates if g.over_limit)
    head_zh = (
        f"【居委会 {day:%m月%d日} 日报】{len(reports)} 个小区,团购 {sum(states.values())} 个,"
        f"售后待处理 {claims_open} 件,账目不平 {off} 个团,门口超车位 {over} 处。"
    )
    head_en = (
        f"Committee daily report for {day:%Y-%m-%d}: {len(reports)} compounds, "
        f"{sum(states.values())} groups, {claims_open} claims open, {off} ledgers off, "
        f"{over} gates over their truck limit."
    )
    return CommitteeReport(
        delivery_date=day,
        compounds=tuple(reports),
        groups_by_state=dict(sorted(states.items())),
        claims_open=claims_open,
        claims_settled=claims_settled,
        ledgers_off=off,
        gates_over_limit=over,
        text_zh="\n\n".join([head_zh, *(r.text_zh for r in reports)]),
        text_en="\n\n".join([head_en, *(r.text_en for r in reports)]),
    )
