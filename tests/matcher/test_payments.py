"""The ledger equation of recorded payments, and whole-case rounding of sign-ups."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.groups import Rounding, round_to_cases
from matcher.payments import (
    Movement,
    PaymentKind,
    SignupLine,
    SignupState,
    balance_ledger,
    fee_shares,
)

PRICE = 3500


def test_fee_shares_sum_exactly_and_go_by_units() -> None:
    lines = [SignupLine(signup_id=f"s{i}", quantity_units=u) for i, u in enumerate((1, 2, 4))]
    shares = fee_shares(1000, lines)
    assert sum(shares.values()) == 1000
    assert shares == {"s0": 143, "s1": 286, "s2": 571}


def test_settled_lines_balance_and_an_unpaid_line_is_named() -> None:
    lines = [
        SignupLine(signup_id="a", quantity_units=2),
        SignupLine(signup_id="b", quantity_units=1),
    ]
    paid = [Movement(kind=PaymentKind.household, signup_id="a", amount_cents=2 * PRICE + 200)]
    balance = balance_ledger(unit_price_cents=PRICE, ordered_units=3, lines=lines, movements=paid,
                             delivery_fee_cents=300)  # fmt: skip
    assert not balance.balanced
    assert [b.signup_id for b in balance.flagged] == ["b"]
    assert "unpaid 3600 of 3600" in balance.flagged[0].problem
    assert balance.difference_cents == -3600
    paid.append(Movement(kind=PaymentKind.household, signup_id="b", amount_cents=PRICE + 100))
    balance = balance_ledger(unit_price_cents=PRICE, ordered_units=3, lines=lines, movements=paid,
                             delivery_fee_cents=300)  # fmt: skip
    assert balance.balanced and balance.difference_cents == 0
    assert balance.expected_cents == 3 * PRICE + 300


def test_group_level_claim_refund_is_a_credit_booked_to_the_leader() -> None:
    lines = [SignupLine(signup_id="a", quantity_units=2)]
    moves = [
        Movement(kind=PaymentKind.household, signup_id="a", amount_cents=2 * PRICE),
        Movement(kind=PaymentKind.refund, amount_cents=PRICE, claim_id="gate-short"),
    ]
    balance = balance_ledger(unit_price_cents=PRICE, ordered_units=2, lines=lines, movements=moves)
    assert balance.balanced
    assert balance.credits_cents == PRICE and balance.invoice_cents == PRICE
    leader = next(b for b in balance.lines if b.signup_id is None)
    assert leader.due_cents == -PRICE and leader.refunded_cents == PRICE
    with pytest.raises(ValueError, match="group-level claim"):
        Movement(kind=PaymentKind.refund, amount_cents=PRICE)


def test_claim_refund_is_a_credit_and_a_refund_without_claim_is_flagged() -> None:
    lines = [SignupLine(signup_id="a", quantity_units=1)]
    moves = [
        Movement(kind=PaymentKind.household, signup_id="a", amount_cents=PRICE),
        Movement(kind=PaymentKind.refund, signup_id="a", amount_cents=500, claim_id="c1"),
    ]
    balance = balance_ledger(unit_price_cents=PRICE, ordered_units=1, lines=lines, movements=moves)
    assert (
        balance.balanced and balance.credits_cents == 500 and balance.invoice_cents == PRICE - 500
    )
    moves.append(Movement(kind=PaymentKind.refund, signup_id="a", amount_cents=100))
    balance = balance_ledger(unit_price_cents=PRICE, ordered_units=1, lines=lines, movements=moves)
    assert [b.signup_id for b in balance.flagged] == ["a"]
    assert "without a claim" in balance.flagged[0].problem


def test_spare_units_are_the_leaders_and_waitlisted_money_must_go_back() -> None:
    lines = [
        SignupLine(signup_id="a", quantity_units=5),
        SignupLine(signup_id="w", quantity_units=1, state=SignupState.waitlisted),
    ]
    moves = [
        Movement(kind=PaymentKind.household, signup_id="a", amount_cents=5 * PRICE),
        Movement(kind=PaymentKind.household, signup_id="w", amount_cents=PRICE),
    ]
    balance = balance_ledger(unit_price_cents=PRICE, ordered_units=6, lines=lines, movements=moves)
    assert {b.signup_id for b in balance.flagged} == {None, "w"}  # leader's spare, waitlisted
    moves += [
        Movement(kind=PaymentKind.household, signup_id=None, amount_cents=PRICE),
        Movement(kind=PaymentKind.refund, signup_id="w", amount_cents=PRICE),
    ]
    balance = balance_ledger(unit_price_cents=PRICE, ordered_units=6, lines=lines, movements=moves)
    assert balance.balanced and balance.spare_units == 1
    with pytest.raises(ValueError, match="waitlist"):
        balance_ledger(unit_price_cents=PRICE, ordered_units=4, lines=lines, movements=[])


_LINES = st.lists(
    st.tuples(st.integers(1, 6), st.sampled_from(list(SignupState))), min_size=0, max_size=6
)


@st.composite
def _ledgers(draw: st.DrawFn) -> tuple[list[SignupLine], int, int, int, list[Movement], bool]:
    raw = draw(_LINES)
    lines = [
        SignupLine(signup_id=f"s{i}", quantity_units=u, state=s) for i, (u, s) in enumerate(raw)
    ]
    active = sum(x.quantity_units for x in lines if x.state is SignupState.active)
    ordered = active + draw(st.integers(0, 3))
    fee, commission = draw(st.integers(0, 999)), draw(st.integers(0, 999))
    ids = [None, *(x.signup_id for x in lines)]
    settle = draw(st.booleans())
    moves: list[Movement] = []
    if settle:  # pay every due exactly first, then claims and their refunds keep it balanced
        dues = balance_ledger(unit_price_cents=PRICE, ordered_units=ordered, lines=lines,
                              movements=[], delivery_fee_cents=fee,
                              leader_commission_cents=commission)  # fmt: skip
        moves = [
            Movement(kind=PaymentKind.household, signup_id=b.signup_id, amount_cents=b.due_cents)
            for b in dues.lines
            if b.due_cents > 0
        ]
        refundable = [x.signup_id for x in lines]
        for n in range(draw(st.integers(0, 4)) if refundable else 0):
            line_id = draw(st.sampled_from(refundable))
            amount = draw(st.integers(1, 5000))
            moves.append(Movement(kind=PaymentKind.refund, signup_id=line_id,
                                  amount_cents=amount, claim_id=f"c{n}"))  # fmt: skip
    else:
        for _ in range(draw(st.integers(0, 12))):
            kind = draw(st.sampled_from(list(PaymentKind)))
            target = draw(st.sampled_from(ids)) if kind is not PaymentKind.advance else None
            if kind is PaymentKind.refund and target is None:
                continue
            claim = draw(st.sampled_from([None, "c1"])) if kind is PaymentKind.refund else None
            moves.append(Movement(kind=kind, signup_id=target, claim_id=claim,
                                  amount_cents=draw(st.integers(1, 20000))))  # fmt: skip
    return lines, ordered, fee, commission, moves, settle


@given(_ledgers())
def test_any_payments_keep_the_equation_or_flag_exactly_the_lines_off(
    case: tuple[list[SignupLine], int, int, int, list[Movement], bool],
) -> None:
    lines, ordered, fee, commission, moves, settled = case
    balance = balance_ledger(unit_price_cents=PRICE, ordered_units=ordered, lines=lines,
                             movements=moves, delivery_fee_cents=fee,
                             leader_commission_cents=commission)  # fmt: skip
    claims = sum(m.amount_cents for m in moves if m.claim_id is not None)
    assert balance.expected_cents == ordered * PRICE - claims + fee + commission
    assert balance.difference_cents == sum(b.balance_cents for b in balance.lines)
    assert {b.signup_id for b in balance.flagged} == {
        b.signup_id for b in balance.lines if b.balance_cents != 0
    }
    assert balance.balanced == (not balance.flagged)  # offsetting lines are flagged too
    if settled:
        assert balance.balanced and balance.difference_cents == 0


def test_whole_case_rounding_down_waitlists_in_sign_up_order() -> None:
    lines = [("a", 7), ("b", 6), ("c", 5), ("d", 1)]
    cases = round_to_cases(lines, 12, Rounding.down)
    assert (cases.ordered_units, cases.kept, cases.waitlisted) == (12, ("a", "c"), ("b", "d"))
    assert cases.units_to_next_case == 5  # 7 waitlisted + 5 = one more case
    ones = round_to_cases([(str(i), 1) for i in range(14)], 12, Rounding.down)
    assert ones.ordered_units == 12 and ones.waitlisted == ("12", "13")
    assert ones.units_to_next_case == 10


def test_whole_case_rounding_up_keeps_every_line_with_spare_units() -> None:
    cases = round_to_cases([("a", 7), ("b", 6)], 12, Rounding.up)
    assert (cases.ordered_units, cases.spare_units, cases.waitlisted) == (24, 11, ())
    exact = round_to_cases([("a", 6), ("b", 6)], 6, Rounding.down)
    assert (exact.ordered_units, exact.waitlisted, exact.units_to_next_case) == (12, (), 0)
