"""The demo day's group-buy scene: groups in the store as leaders, residents and a supplier
run them, on the demo clock, through the domain rules and store helpers the API uses.

On the embedded day, after matching and routing:

1. the focus compound's groups are opened from the allocation, its residents' orders
   committed, closed at the deadline, matched, dispatched and delivered as the plan says,
   and the leader records the residents' payments (collected in the chat, one total);
2. a pooled group (拼团) opens on the first pool ``propose_pools`` proposes (lead compound
   first, one leader per compound), synthetic residents sign up in every member compound
   (rooms on the building roster), and it forms at its deadline on the joint units;
3. a leader opens a group with an amount threshold (成团金额) its residents do not reach, in
   the focus compound if a failure there can be re-matched, else in a pool member: it fails,
   ``rematch_failed`` moves its units to the next eligible offer, its sign-up lines follow,
   and the successor forms;
4. the receipt check of a delivered group at the gate finds a short line: the claim opens,
   the supplier accepts it with a refund recorded in the ledger, the leader closes it and
   the group settles;
5. the daily report (日报) of the focus compound, and of the compounds of steps 2 and 3.

Everything runs on a fixed clock (the day before delivery from ``OPENED``) and a seeded
random generator; ids are derived from the offers and compounds, so a run is reproducible.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, update

from api import aftersales, audit
from api.daily_report import DailyReport, daily_report
from api.group_store import (
    GROUP_COMPOUNDS,
    GROUPS,
    SIGNUPS,
    group_balance,
    load_group,
    record_payment,
    save_group,
    signup_rows,
)
from api.matching import DayMatch
from api.planning import DayPlan
from api.render.html import daily_report_html
from api.routes.signups import new_code
from api.security import Principal, Role
from data.demo import DEMO_DATE, FOCUS_COMPOUND_ID
from data.roster import flats_per_floor, room_issue
from data.schemas import SHANGHAI, Building, Offer, PriorityFlag
from data.store import Store
from data.tables import ReceiptCheckRow, table_of
from matcher.claims import Claim, ClaimKind, ClaimSource, Resolution, ResolutionKind, file_claim
from matcher.eligibility import Eligibility, Reason, check_eligibility
from matcher.groups import (
    Group,
    GroupState,
    LeaderNotice,
    Transition,
    close_with_cases,
    open_groups,
    rematch_failed,
)
from matcher.ledger import Ledger, ledger_of
from matcher.model import Params
from matcher.payments import LedgerBalance, PaymentKind, SignupLine, fee_shares
from matcher.pooling import Pool, PoolingResult, propose_pools
from matcher.receipt import Condition, ReceiptLine, discrepancies, expected_units, received_units
from routing.schedule import ArrivalSchedule, arrival_schedule

OPENED = dt.datetime.combine(DEMO_DATE - dt.timedelta(days=1), dt.time(12, 0), SHANGHAI)
"""When the day's groups open: noon the day before delivery (Shanghai time)."""
DEADLINE = OPENED + dt.timedelta(hours=8)
"""When residents' sign-ups close and groups form or fail."""
CONFIRM_BY = DEADLINE + dt.timedelta(hours=2)
"""Deadline of a re-matched group: the leader confirms the new supplier by then."""
POOL_FEE_CENTS = 1500
"""The delivery fee the pool's leaders declare when opening it (shared by units)."""
SYNTHETIC = "synthetic"
"""Source of the demo's made-up sign-up lines; their names say 模拟住户 (synthetic)."""

_CHECKS = table_of(ReceiptCheckRow)


@dataclass(frozen=True)
class GroupScene:
    """What the scene did: the groups it ran, the claim, the reports and the ledgers."""

    pools: PoolingResult
    pooled: Group
    pool_lines: dict[str, int]
    """Sign-up lines per compound of the pooled group."""
    failed: Group
    notice: LeaderNotice
    successor: Group | None
    claim: Claim
    claim_group: Group
    check: dict[str, Any]
    claim_balance: LedgerBalance
    reports: tuple[DailyReport, ...]
    """Daily reports: the focus compound's, then the other compounds the scene ran in."""
    ledgers: tuple[Ledger, ...]
    report_html: Path | None


@dataclass(frozen=True)
class _Draft:
    """A synthetic household line before it is stored."""

    building_id: str
    room: str
    units: int
    proxy: bool


def leader_of(compound_id: str) -> Principal:
    """The demo's leader (团长) of a compound."""
    return Principal(username=f"leader.{compound_id}", role=Role.leader, compound_id=compound_id)


def dispatcher_of(supplier_id: str) -> Principal:
    """The demo's dispatcher (调度) of a supplier."""
    return Principal(
        username=f"dispatcher.{supplier_id}", role=Role.dispatcher, supplier_id=supplier_id
    )


ADMIN = Principal(username="admin", role=Role.admin)


def run_group_scene(
    store: Store,
    match: DayMatch,
    day_plan: DayPlan,
    *,
    rules: Params,
    seed: int,
    out_dir: Path | None,
) -> GroupScene:
    """Run the group-buy scene into ``store`` (see the module docstring); with ``out_dir``
    the daily reports are written there as ``daily_report.html``."""
    rng = random.Random(seed)
    offers = {offer.offer_id: offer for offer in match.problem.offers}
    focus = _focus_groups(store, match, day_plan, offers)

    pools = propose_pools(match.problem, match.allocation, rules=rules)
    if not pools.pools:
        raise RuntimeError("the demo day proposes no pooled group; the scene needs one")
    pool = _choose_pool(pools)
    pooled, pool_lines = _pooled_group(store, pool, offers[pool.offer_id], rng)

    failed, notice, successor = _failed_and_rematched(
        store, match, [*focus, pooled], (FOCUS_COMPOUND_ID, *pool.compound_ids), offers, rng
    )

    delivered = [g for g in focus if g.state is GroupState.delivered]
    if not delivered:
        raise RuntimeError(
            "the plan routed none of the focus compound's groups, so the scene has no "
            "delivery to check at the gate; give the router more time (--route-time-limit)"
        )
    claim_group = max(delivered, key=lambda g: (g.committed_units, g.group_id))
    claim, check, claim_group = _claim_at_the_gate(
        store, claim_group, offers[claim_group.offer_id], day_plan
    )
    with store.engine.connect() as conn:
        stored = load_group(conn, group_id=claim_group.group_id)
        assert stored is not None
        balance = group_balance(conn, stored, offers[claim_group.offer_id].unit_price_cents)

    places = dict.fromkeys((FOCUS_COMPOUND_ID, pool.lead_compound_id, failed.compound_id))
    reports = tuple(_report(store, day_plan, compound_id) for compound_id in places)
    html = None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        html = out_dir / "daily_report.html"
        page = daily_report_html(reports, f"日报 {DEMO_DATE}")
        html.write_text(page, encoding="utf-8")
    ledgers = _ledgers(
        store,
        match,
        [g.group_id for g in focus]
        + [failed.group_id, *([successor.group_id] if successor else []), pooled.group_id],
    )
    return GroupScene(
        pools=pools,
        pooled=pooled,
        pool_lines=pool_lines,
        failed=failed,
        notice=notice,
        successor=successor,
        claim=claim,
        claim_group=claim_group,
        check=check,
        claim_balance=balance,
        reports=reports,
        ledgers=ledgers,
        report_html=html,
    )


# --- storing groups the way the API does ------------------------------------------------------


def _insert_group(conn: Connection, group: Group, leaders: dict[str, str | None]) -> None:
    """Store a new group and the compounds it serves (lead first) with their leaders."""
    opened = group.history[0].at
    creator = leaders[group.compound_id]
    assert creator is not None
    row = {
        "group_id": group.group_id,
        "compound_id": group.compound_id,
        "supplier_id": group.supplier_id,
        "offer_id": group.offer_id,
        "state": group.state.value,
        "public_token": secrets.token_urlsafe(18),
        "data": group.model_dump(mode="json"),
        "created_by": creator,
        "created_at": opened,
        "updated_at": opened,
    }
    conn.execute(insert(GROUPS).values(**row))
    conn.execute(
        insert(GROUP_COMPOUNDS),
        [
            {
                "group_id": group.group_id,
                "compound_id": c,
                "position": position,
                "leader": leader,
                "joined_at": opened,
            }
            for position, (c, leader) in enumerate(leaders.items())
        ],
    )
    audit.append(conn, creator, "group.open", f"group {group.group_id}", after=row["data"])


def _signup(
    conn: Connection,
    group: Group,
    compound_id: str,
    drafts: Sequence[_Draft],
    by: Principal,
    first: dt.datetime,
    last: dt.datetime,
) -> Group:
    """Store synthetic lines of one compound, spread from ``first`` to ``last``, and commit
    their units to the group (as the sign-up endpoint does)."""
    step = (last - first) / max(1, len(drafts) - 1)
    rows = []
    for index, draft in enumerate(drafts, start=1):
        at = first + step * (index - 1)
        rows.append(
            {
                "signup_id": f"s-{group.group_id[-12:]}-{compound_id[-6:]}-{index:03d}",
                "group_id": group.group_id,
                "compound_id": compound_id,
                "building_id": draft.building_id,
                "room": draft.room,
                "household_name": f"模拟住户 {index}",
                "phone": "",
                "priority_flags": [PriorityFlag.elderly.value] if draft.proxy else [],
                "proxy": draft.proxy,
                "quantity_units": draft.units,
                "state": "active",
                "source": SYNTHETIC,
                "resident_code": new_code(),
                "created_by": by.username,
                "created_at": at,
                "updated_at": at,
            }
        )
    conn.execute(insert(SIGNUPS), rows)
    after = group.commit(sum(d.units for d in drafts), last)
    save_group(conn, by, group, after, "group.signup", last)
    audit.append(
        conn,
        by,
        "signup.add",
        f"group {group.group_id}",
        after={"lines": [r["signup_id"] for r in rows], "source": SYNTHETIC},
    )
    return after


def _close(conn: Connection, group: Group, by: Principal, at: dt.datetime) -> Group:
    """Decide the group at ``at`` on its active lines in whole cases, as the close endpoint
    does: formed, or failed with its capacity released."""
    active = [r for r in signup_rows(conn, group.group_id) if r["state"] == "active"]
    unlisted = group.committed_units - sum(r["quantity_units"] for r in active)
    lines = [("(unlisted)", unlisted)] if unlisted > 0 else []
    lines += [(r["signup_id"], r["quantity_units"]) for r in active]
    after, cases = close_with_cases(group, lines, at)
    if cases.waitlisted:
        conn.execute(
            update(SIGNUPS)
            .where(SIGNUPS.c.signup_id.in_(cases.waitlisted))
            .values(state="waitlisted", updated_at=at)
        )
    save_group(conn, by, group, after, f"group.{after.state}", at)
    return after


def _advance(
    conn: Connection, group: Group, to: GroupState, at: dt.datetime, by: Principal, zh: str, en: str
) -> Group:
    after = group.advance(to, at, note_zh=zh, note_en=en)
    save_group(conn, by, group, after, f"group.{to}", at)
    return after


def _pay_lines(conn: Connection, group: Group, offer: Offer, at: dt.datetime) -> None:
    """Every active line pays its units at the unit price plus its share of the declared fee
    and commission, recorded by the leader of its compound."""
    rows = [r for r in signup_rows(conn, group.group_id) if r["state"] == "active"]
    lines = [SignupLine(signup_id=r["signup_id"], quantity_units=r["quantity_units"]) for r in rows]
    shares = fee_shares(group.delivery_fee_cents + group.leader_commission_cents, lines)
    for index, row in enumerate(rows):
        record_payment(
            conn,
            group_id=group.group_id,
            kind=PaymentKind.household,
            amount_cents=row["quantity_units"] * offer.unit_price_cents + shares[row["signup_id"]],
            by=leader_of(row["compound_id"]),
            at=at + dt.timedelta(minutes=index % 30),
            signup_id=row["signup_id"],
            method=("wechat", "alipay", "cash")[index % 3],
        )


# --- 1. the focus compound's groups from the allocation -----------------------------------------


def _focus_groups(
    store: Store, match: DayMatch, day_plan: DayPlan, offers: dict[str, Offer]
) -> list[Group]:
    """Open, commit, close and match the focus compound's groups; move the planned ones to
    delivered at their trucks' times; record the residents' payments the leader collected."""
    lines = tuple(line for line in match.allocation.lines if line.compound_id == FOCUS_COMPOUND_ID)
    focus = match.allocation.model_copy(update={"lines": lines})
    leader = leader_of(FOCUS_COMPOUND_ID)
    done = []
    with audit.write(store.engine) as conn:
        for group in open_groups(match.problem, focus, opened_at=OPENED, deadline=DEADLINE):
            _insert_group(conn, group, {FOCUS_COMPOUND_ID: leader.username})
            committed = group.commit(group.allocated_units, OPENED + dt.timedelta(hours=4))
            save_group(conn, leader, group, committed, "group.commit", OPENED)
            group = _close(conn, committed, leader, DEADLINE)
            if group.state is GroupState.formed:
                group = _advance(
                    conn,
                    group,
                    GroupState.matched,
                    DEADLINE,
                    ADMIN,
                    "已成团,按匹配结果交由该供应商配送。",
                    "formed; handed to the matched supplier for delivery.",
                )
                offer = offers[group.offer_id]
                record_payment(
                    conn,
                    group_id=group.group_id,
                    kind=PaymentKind.household,
                    amount_cents=(group.ordered_units or 0) * offer.unit_price_cents,
                    by=leader,
                    at=DEADLINE + dt.timedelta(hours=1),
                    method="wechat",
                    note="residents' payments collected in the chat (接龙), recorded as one total",
                )
            done.append(group)
        for index, group in enumerate(done):
            stops = [
                (route.start, stop.departure)
                for route in day_plan.plan.routes
                if route.supplier_id == group.supplier_id
                for stop in route.stops
                if stop.compound_id == FOCUS_COMPOUND_ID and stop.category_id == group.category_id
            ]
            if group.state is not GroupState.matched or not stops:
                continue
            by = dispatcher_of(group.supplier_id)
            group = _advance(
                conn,
                group,
                GroupState.dispatched,
                min(s for s, _ in stops),
                by,
                "已发车。",
                "dispatched.",
            )
            done[index] = _advance(
                conn,
                group,
                GroupState.delivered,
                max(d for _, d in stops),
                by,
                "已送达小区门口。",
                "delivered at the gate.",
            )
    return done


# --- 2. a pooled group ------------------------------------------------------------------------


def _choose_pool(pools: PoolingResult) -> Pool:
    """The focus compound's pool if it is in one, else the first proposed (on the demo day
    the focus compound's shortfalls are not minimum-order ones, so it is in none)."""
    mine = pools.pools_of(FOCUS_COMPOUND_ID)
    return mine[0] if mine else pools.pools[0]


def _synthetic_lines(
    buildings: Sequence[Building], units: int, case: int, rng: random.Random
) -> list[_Draft]:
    """Made-up household lines adding up to ``units`` rounded up to whole cases, each one to
    three cases, in rooms that are on the buildings' roster (one line per room)."""
    homes = [b for b in buildings if b.households > 0]
    if not homes:
        raise ValueError(f"compound {buildings[0].compound_id} has no building with households")
    cases = -(-units // case)
    taken: set[tuple[str, str]] = set()
    drafts = []
    while cases > 0:
        size = min(cases, rng.randint(1, 3))
        building = rng.choice(homes)
        room = f"{rng.randint(1, building.floors)}{rng.randint(1, flats_per_floor(building)):02d}"
        if (building.building_id, room) in taken:
            continue
        issue = room_issue(building, room)
        if issue is not None:
            raise ValueError(issue)
        taken.add((building.building_id, room))
        drafts.append(_Draft(building.building_id, room, size * case, rng.random() < 0.1))
        cases -= size
    return drafts


def _pooled_group(
    store: Store, pool: Pool, offer: Offer, rng: random.Random
) -> tuple[Group, dict[str, int]]:
    """Open the pool as one group (lead compound first), each member's leader joined, the
    members' residents sign up, it closes at the deadline and is matched; lines pay."""
    drafts = {
        c: _synthetic_lines(
            store.buildings(c), pool.units_by_compound[c], offer.case_size_units, rng
        )
        for c in pool.compound_ids
    }
    units = sum(d.units for lines in drafts.values() for d in lines)
    neighbours = "、".join(pool.compound_ids[1:])
    group = Group(
        group_id=f"g-{pool.pool_id}",
        offer_id=offer.offer_id,
        supplier_id=offer.supplier_id,
        compound_id=pool.lead_compound_id,
        category_id=offer.category_id,
        threshold_units=offer.min_order_units,
        allocated_units=units,
        deadline=DEADLINE,
        compound_ids=pool.compound_ids,
        case_size_units=offer.case_size_units,
        delivery_fee_cents=POOL_FEE_CENTS,
        history=(
            Transition(
                from_state=None,
                to_state=GroupState.open,
                at=OPENED,
                note_zh=f"团长开团,与 {neighbours} 拼团,合计 {offer.min_order_units} 份成团,"
                f"截止 {DEADLINE:%m-%d %H:%M};运费 ¥{POOL_FEE_CENTS / 100:.2f},团长佣金 ¥0.00。",
                note_en=f"opened by the leader, pooled with {neighbours}: forms at "
                f"{offer.min_order_units} units jointly by {DEADLINE:%m-%d %H:%M}; delivery fee "
                f"{POOL_FEE_CENTS} cents, leader commission 0 cents.",
            ),
        ),
    )
    leaders: dict[str, str | None] = {c: leader_of(c).username for c in pool.compound_ids}
    with audit.write(store.engine) as conn:
        _insert_group(conn, group, leaders)
        for position, compound_id in enumerate(pool.compound_ids):
            if position:
                audit.append(
                    conn,
                    leader_of(compound_id),
                    "group.join",
                    f"group {group.group_id}",
                    after={"compound_id": compound_id, "leader": leaders[compound_id]},
                )
            start = OPENED + dt.timedelta(minutes=30 + 10 * position)
            group = _signup(
                conn,
                group,
                compound_id,
                drafts[compound_id],
                leader_of(compound_id),
                start,
                DEADLINE - dt.timedelta(hours=1),
            )
        lead = leader_of(pool.lead_compound_id)
        group = _close(conn, group, lead, DEADLINE)
        if group.state is GroupState.formed:
            group = _advance(
                conn,
                group,
                GroupState.matched,
                DEADLINE,
                ADMIN,
                "拼团已成团,按小区分别送到各自门口。",
                "pooled group formed; one stop at each compound's gate.",
            )
            _pay_lines(conn, group, offer, DEADLINE + dt.timedelta(minutes=30))
    return group, {c: len(lines) for c, lines in drafts.items()}


# --- 3. a failed group, re-matched ------------------------------------------------------------


def _amount_group(offer: Offer, compound_id: str, signed: int) -> Group:
    """An open group on ``offer`` at ``compound_id`` whose leader asks for twice the
    ``signed`` units' amount (成团金额): ``signed`` units will not reach it."""
    threshold_cents = 2 * max(signed, offer.min_order_units) * offer.unit_price_cents
    threshold = -(-threshold_cents // offer.unit_price_cents)
    return Group(
        group_id=f"g-{offer.offer_id}-{compound_id}",
        offer_id=offer.offer_id,
        supplier_id=offer.supplier_id,
        compound_id=compound_id,
        category_id=offer.category_id,
        threshold_units=threshold,
        threshold_cents=threshold_cents,
        allocated_units=threshold,
        deadline=DEADLINE,
        case_size_units=offer.case_size_units,
        history=(
            Transition(
                from_state=None,
                to_state=GroupState.open,
                at=OPENED + dt.timedelta(hours=1),
                note_zh=f"团长开团,满 ¥{threshold_cents / 100:,.2f}({threshold} 份)成团,"
                f"截止 {DEADLINE:%m-%d %H:%M}。",
                note_en=f"opened by the leader: forms at ¥{threshold_cents / 100:,.2f} "
                f"({threshold} units) by {DEADLINE:%m-%d %H:%M}.",
            ),
        ),
    )


def _failing_group(
    match: DayMatch, held: Sequence[Group], compound_ids: Sequence[str], eligibility: Eligibility
) -> tuple[Group, int]:
    """The group a leader opens that fails and is re-matched, and its signed units.

    For each compound in turn (the focus compound first), the offers eligible there,
    cheapest first; the first whose failure ``rematch_failed`` moves to another offer
    (tried on copies, nothing stored) is chosen. On the demo day the focus compound's
    suppliers have no capacity left and it receives the most suppliers allowed, so the
    pool's lead compound is where it happens.
    """
    for compound_id in compound_ids:
        candidates = sorted(
            (
                offer
                for offer in match.problem.offers
                if eligibility.reason(offer.offer_id, compound_id) is Reason.eligible
            ),
            key=lambda o: (o.unit_price_cents, o.offer_id),
        )
        for offer in candidates:
            minimum = max(
                o.min_order_units
                for o in match.problem.offers
                if o.category_id == offer.category_id
            )
            signed = -(-(minimum + 4) // offer.case_size_units) * offer.case_size_units
            group = _amount_group(offer, compound_id, signed).commit(signed, DEADLINE)
            failed, _ = close_with_cases(group, [("signed", signed)], DEADLINE)
            groups, _ = rematch_failed(
                match.problem,
                [*held, failed],
                at=DEADLINE,
                deadline=CONFIRM_BY,
                eligibility=eligibility,
            )
            if any(g.rematched_from == failed.group_id for g in groups):
                return _amount_group(offer, compound_id, signed), signed
    raise RuntimeError(f"no group at {', '.join(compound_ids)} fails and is re-matched")


def _failed_and_rematched(
    store: Store,
    match: DayMatch,
    held_here: Sequence[Group],
    compound_ids: Sequence[str],
    offers: dict[str, Offer],
    rng: random.Random,
) -> tuple[Group, LeaderNotice, Group | None]:
    """A leader (of the first of ``compound_ids`` where it works) opens a group with an amount
    threshold its residents do not reach; ``held_here`` are the groups opened so far. At the
    deadline it fails, ``rematch_failed`` moves its units on, the lines follow."""
    eligibility = check_eligibility(match.problem)
    held = [
        *(
            g
            for g in open_groups(
                match.problem, match.allocation, opened_at=OPENED, deadline=DEADLINE
            )
            if g.compound_id != FOCUS_COMPOUND_ID
        ),
        *held_here,
    ]
    group, signed = _failing_group(match, held, compound_ids, eligibility)
    leader = leader_of(group.compound_id)
    drafts = _synthetic_lines(
        store.buildings(group.compound_id), signed, group.case_size_units, rng
    )
    with audit.write(store.engine) as conn:
        _insert_group(conn, group, {group.compound_id: leader.username})
        group = _signup(
            conn,
            group,
            group.compound_id,
            drafts,
            leader,
            OPENED + dt.timedelta(hours=2),
            DEADLINE - dt.timedelta(minutes=30),
        )
        failed = _close(conn, group, leader, DEADLINE)
    groups, notices = rematch_failed(
        match.problem, [*held, failed], at=DEADLINE, deadline=CONFIRM_BY, eligibility=eligibility
    )
    (notice,) = [n for n in notices if n.failed_group_id == failed.group_id]
    successor = next((g for g in groups if g.rematched_from == failed.group_id), None)
    if successor is None:
        return failed, notice, None
    with audit.write(store.engine) as conn:
        _insert_group(conn, successor, {group.compound_id: leader.username})
        moved = [r["signup_id"] for r in signup_rows(conn, failed.group_id)]
        conn.execute(
            update(SIGNUPS)
            .where(SIGNUPS.c.group_id == failed.group_id)
            .values(group_id=successor.group_id, updated_at=DEADLINE)
        )
        audit.append(
            conn,
            leader,
            "signup.move",
            f"group {successor.group_id}",
            after={"from": failed.group_id, "lines": moved},
        )
        successor = _close(conn, successor, leader, CONFIRM_BY)
        if successor.state is GroupState.formed:
            successor = _advance(
                conn,
                successor,
                GroupState.matched,
                CONFIRM_BY,
                ADMIN,
                "改派后成团,交由新供应商配送。",
                "formed after the re-match; handed to the new supplier.",
            )
            _pay_lines(
                conn, successor, offers[successor.offer_id], CONFIRM_BY + dt.timedelta(minutes=15)
            )
    return failed, notice, successor


# --- 4. receipt check, claim, refund ----------------------------------------------------------


def _claim_at_the_gate(
    store: Store, group: Group, offer: Offer, day_plan: DayPlan
) -> tuple[Claim, dict[str, Any], Group]:
    """The leader counts the delivery at the gate: some packages short; the claim opens, the
    supplier accepts with a refund (recorded), the leader closes it, the group settles."""
    loaded = sum(
        stop.quantity_units
        for route in day_plan.plan.routes
        if route.supplier_id == group.supplier_id
        for stop in route.stops
        if stop.compound_id == FOCUS_COMPOUND_ID and stop.category_id == group.category_id
    )
    expected = expected_units(group.ordered_units or group.committed_units, loaded or None)
    short = max(1, expected // 20)
    lines = [
        ReceiptLine(units=expected - short),
        ReceiptLine(units=short, condition=Condition.short, note="每袋不足标称重量"),
    ]
    found = discrepancies(expected, lines, offer.unit_price_cents)
    at = group.history[-1].at + dt.timedelta(minutes=15)
    leader = leader_of(FOCUS_COMPOUND_ID)
    check_id = f"rc-{DEMO_DATE:%m%d}-{group.category_id}"[:32]
    check: dict[str, Any] = {
        "check_id": check_id,
        "group_id": group.group_id,
        "compound_id": FOCUS_COMPOUND_ID,
        "supplier_id": group.supplier_id,
        "expected_units": expected,
        "expected_from": "plan" if loaded else "ordered",
        "plan_job_id": None,
        "received_units": received_units(lines),
        "lines": [line.model_dump(mode="json") for line in lines],
        "discrepancy": bool(found),
        "at": at,
        "recorded_by": leader.username,
    }
    (difference,) = found
    claim = file_claim(
        claim_id=f"cl-{DEMO_DATE:%m%d}-{group.category_id}-1"[:32],
        group_id=group.group_id,
        compound_id=FOCUS_COMPOUND_ID,
        supplier_id=group.supplier_id,
        category_id=group.category_id,
        source=ClaimSource.receipt_check,
        kind=difference.kind,
        units=difference.units,
        unit_price_cents=offer.unit_price_cents,
        at=at,
        actor=leader.username,
        receipt_check_id=check_id,
    )
    dispatcher = dispatcher_of(group.supplier_id)
    with audit.write(store.engine) as conn:
        conn.execute(insert(_CHECKS).values(**check))
        audit.append(
            conn,
            leader,
            "receipt.check",
            f"group {group.group_id} compound {FOCUS_COMPOUND_ID}",
            after={k: v for k, v in check.items() if k not in ("at", "lines")},
        )
        aftersales.insert_claim(conn, leader, claim, leader.username)
    answered = at + dt.timedelta(hours=2)
    accepted = claim.accept(
        Resolution(kind=ResolutionKind.refund, amount_cents=claim.amount_cents),
        answered,
        dispatcher.username,
    )
    with audit.write(store.engine) as conn:
        aftersales.save_claim(conn, dispatcher, claim, accepted, "claim.accept")
        aftersales.record_claim_refund(conn, dispatcher, accepted, method="transfer", at=answered)
    closed = accepted.close(
        answered + dt.timedelta(hours=1), leader.username, "退款已转给相关住户。"
    )
    with audit.write(store.engine) as conn:
        aftersales.save_claim(conn, leader, accepted, closed, "claim.close")
        group = _advance(
            conn,
            group,
            GroupState.settled,
            answered + dt.timedelta(hours=2),
            ADMIN,
            "售后已处理,账目平衡,结算。",
            "claims settled and the ledger balances: settled.",
        )
    assert closed.kind in (ClaimKind.short, ClaimKind.missing)
    return closed, check, group


# --- 5. the daily report and the ledgers ------------------------------------------------------


def _schedule(store: Store, day_plan: DayPlan, compound_id: str) -> ArrivalSchedule | None:
    """The compound's arrivals per gate from the plan, None when no truck comes."""
    compound = store.compound(compound_id)
    routes = tuple(
        r for r in day_plan.plan.routes if any(s.compound_id == compound_id for s in r.stops)
    )
    if compound is None:
        return None
    supply = store.supply()
    return arrival_schedule(
        compound,
        store.gates(compound_id),
        day_plan.plan.model_copy(update={"routes": routes}),
        DEMO_DATE,
        suppliers=supply.suppliers,
        vehicles=supply.vehicles,
    )


def _report(store: Store, day_plan: DayPlan, compound_id: str) -> DailyReport:
    compound = store.compound(compound_id)
    name = compound.name if compound else compound_id
    schedule = _schedule(store, day_plan, compound_id)
    with store.engine.connect() as conn:
        return daily_report(
            conn, compound_id=compound_id, compound_name=name, day=DEMO_DATE, schedule=schedule
        )


def _ledgers(store: Store, match: DayMatch, group_ids: Sequence[str]) -> tuple[Ledger, ...]:
    """The public ledgers of the stored groups, with their balances."""
    offers = {offer.offer_id: offer for offer in match.problem.offers}
    suppliers = {s.supplier_id: s.name for s in match.problem.suppliers}
    names = {c.compound_id: c.name for c in match.problem.compounds}
    ledgers = []
    with store.engine.connect() as conn:
        for group_id in group_ids:
            stored = load_group(conn, group_id=group_id)
            assert stored is not None
            group, offer = stored.group, offers[stored.group.offer_id]
            ledgers.append(
                ledger_of(
                    group,
                    offer,
                    compound_name=names.get(group.compound_id, group.compound_id),
                    supplier_name=suppliers[group.supplier_id],
                    balance=group_balance(conn, stored, offer.unit_price_cents),
                )
            )
    return tuple(ledgers)
