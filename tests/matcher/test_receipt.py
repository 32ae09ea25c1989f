"""Receipt check: counted packages against what was loaded, and the claims they open."""

from __future__ import annotations

import pytest

from matcher.claims import ClaimKind
from matcher.receipt import Condition, ReceiptLine, discrepancies, expected_units


def test_everything_ok_is_no_discrepancy() -> None:
    assert discrepancies(20, [ReceiptLine(units=20)], 3500) == ()


def test_surplus_is_not_a_discrepancy() -> None:
    assert discrepancies(20, [ReceiptLine(units=21)], 3500) == ()


def test_fewer_units_open_a_missing_claim_priced_at_the_unit_price() -> None:
    (found,) = discrepancies(20, [ReceiptLine(units=17)], 3500)
    assert (found.kind, found.units, found.amount_cents) == (ClaimKind.missing, 3, 10500)


def test_each_condition_maps_to_its_claim_kind() -> None:
    lines = [
        ReceiptLine(units=10),
        ReceiptLine(units=2, condition=Condition.damaged),
        ReceiptLine(units=1, condition=Condition.spoiled),
        ReceiptLine(units=1, condition=Condition.short),
        ReceiptLine(units=1, condition=Condition.wrong_item),
    ]
    found = {d.kind: d.units for d in discrepancies(20, lines, 100)}
    assert found == {
        ClaimKind.missing: 5,
        ClaimKind.spoiled: 3,
        ClaimKind.short: 1,
        ClaimKind.wrong: 1,
    }


@pytest.mark.parametrize(
    ("ordered", "loaded", "expected"), [(20, None, 20), (20, 30, 20), (20, 15, 15)]
)
def test_expected_is_the_load_capped_at_the_order(
    ordered: int, loaded: int | None, expected: int
) -> None:
    assert expected_units(ordered, loaded) == expected
