"""Receipt check (验货) at the gate: what arrived for a group at a compound, against what was
loaded, and the discrepancies that open claims.

The leader or a volunteer counts the packages of one delivery and records them in lines of
(units, condition). The expected units are what was loaded for the compound (the route
sheet's unload lines of the current plan for the group's supplier and category, capped at
what the group ordered there) or, without a plan, what the group ordered. Discrepancies:

- fewer units than expected (over all conditions) → ``missing`` units;
- units in condition ``short`` (arrived under weight) → ``short``;
- ``damaged`` or ``spoiled`` → ``spoiled``;
- ``wrong_item`` → ``wrong``.

Each discrepancy becomes one group-level claim of that kind, priced at the group's unit price.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence

from pydantic import Field

from data.schemas import Model
from matcher.claims import ClaimKind


class Condition(enum.StrEnum):
    """The state a counted package arrived in."""

    ok = "ok"
    damaged = "damaged"
    spoiled = "spoiled"
    short = "short"  # under weight or missing contents
    wrong_item = "wrong_item"


CLAIM_OF_CONDITION: dict[Condition, ClaimKind] = {
    Condition.damaged: ClaimKind.spoiled,
    Condition.spoiled: ClaimKind.spoiled,
    Condition.short: ClaimKind.short,
    Condition.wrong_item: ClaimKind.wrong,
}
"""The claim a package in each condition other than ``ok`` opens."""


class ReceiptLine(Model):
    """Packages counted at the gate in one condition."""

    units: int = Field(ge=0, le=1_000_000)
    condition: Condition = Condition.ok
    note: str = Field(default="", max_length=500)


class Discrepancy(Model):
    """One kind of difference found by a receipt check, and its price."""

    kind: ClaimKind
    units: int = Field(gt=0)
    amount_cents: int = Field(ge=0)


def received_units(lines: Sequence[ReceiptLine]) -> int:
    """Packages counted, in any condition."""
    return sum(line.units for line in lines)


def discrepancies(
    expected_units: int, lines: Sequence[ReceiptLine], unit_price_cents: int
) -> tuple[Discrepancy, ...]:
    """The differences between ``expected_units`` and the counted ``lines``, one per claim
    kind (missing, short, spoiled, wrong), priced at ``unit_price_cents``; empty when every
    expected package arrived ok. Surplus packages are not a discrepancy."""
    if expected_units < 0:
        raise ValueError(f"expected_units must be 0 or more, got {expected_units}")
    units: Counter[ClaimKind] = Counter()
    missing = expected_units - received_units(lines)
    if missing > 0:
        units[ClaimKind.missing] += missing
    for line in lines:
        if line.condition is not Condition.ok and line.units > 0:
            units[CLAIM_OF_CONDITION[line.condition]] += line.units
    return tuple(
        Discrepancy(kind=kind, units=units[kind], amount_cents=units[kind] * unit_price_cents)
        for kind in ClaimKind
        if units[kind] > 0
    )


def expected_units(ordered_units: int, loaded_units: int | None) -> int:
    """What should arrive: the plan's loaded units capped at what was ordered, or what was
    ordered when no plan carries the delivery (``loaded_units`` None)."""
    if loaded_units is None:
        return ordered_units
    return min(ordered_units, loaded_units)
