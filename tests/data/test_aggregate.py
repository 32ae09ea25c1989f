"""Demand aggregation: totals preserved, dates never mixed, priority kept apart."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.aggregate import aggregate_demand, collect_demand, compound_demand, empty_order_lines
from data.errors import DataError
from data.schemas import DEMAND_SCHEMA, ORDER_LINE_SCHEMA

DAY = dt.date(2022, 4, 15)


def lines_frame(rows: list[tuple[str, str, str, str, dt.date, str, int, bool]]) -> pl.LazyFrame:
    """Order lines from (order, compound, building, household, date, category, qty, prio)."""
    return pl.DataFrame(rows, schema=ORDER_LINE_SCHEMA, orient="row").lazy()


def test_small_instance_values() -> None:
    lines = lines_frame(
        [
            ("o1", "c1", "b1", "h1", DAY, "veg", 2, True),
            ("o1", "c1", "b1", "h1", DAY, "egg", 1, True),
            ("o2", "c1", "b1", "h2", DAY, "veg", 3, False),
            ("o3", "c1", "b2", "h3", DAY, "veg", 1, False),
        ]
    )
    demand = aggregate_demand(lines).collect()
    assert demand.schema == DEMAND_SCHEMA
    assert demand.rows() == [
        ("c1", "b1", "egg", DAY, 1, 1, 1, 1),
        ("c1", "b1", "veg", DAY, 5, 2, 2, 1),
        ("c1", "b2", "veg", DAY, 1, 1, 0, 0),
    ]
    per_compound = compound_demand(demand.lazy()).collect()
    veg = per_compound.filter(pl.col("category_id") == "veg").row(0, named=True)
    assert veg["quantity_units"] == 6
    assert veg["households"] == 3
    assert veg["priority_households"] == 1
    assert veg["buildings"] == 2


def test_household_identity_never_leaves() -> None:
    lines = lines_frame([("o1", "c1", "b1", "secret-household", DAY, "veg", 1, True)])
    demand = aggregate_demand(lines).collect()
    assert "household_key" not in demand.columns
    assert "order_id" not in demand.columns
    assert "secret-household" not in str(demand.rows())


def test_empty_input_gives_empty_demand() -> None:
    demand = aggregate_demand(empty_order_lines()).collect()
    assert demand.height == 0
    assert demand.schema == DEMAND_SCHEMA


def test_missing_and_mistyped_columns_are_named() -> None:
    bad = pl.LazyFrame({"compound_id": ["c1"], "quantity_units": ["two"]})
    with pytest.raises(DataError) as caught:
        aggregate_demand(bad)
    text = str(caught.value)
    assert "field 'building_id'" in text
    assert "field 'quantity_units'" in text
    assert "column has type String" in text
    assert len(caught.value.issues) == len(ORDER_LINE_SCHEMA) - 1


line_rows = st.lists(
    st.tuples(
        st.sampled_from(["o1", "o2", "o3", "o4"]),
        st.sampled_from(["c1", "c2", "c3"]),
        st.sampled_from(["b1", "b2"]),
        st.sampled_from(["h1", "h2", "h3", "h4", "h5"]),
        st.dates(min_value=DAY, max_value=DAY + dt.timedelta(days=3)),
        st.sampled_from(["veg", "meat", "eggs", "dairy"]),
        st.integers(min_value=1, max_value=1_000_000),
        st.booleans(),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(line_rows)
def test_aggregation_preserves_totals_and_never_mixes_dates(
    rows: list[tuple[str, str, str, str, dt.date, str, int, bool]],
) -> None:
    lines = lines_frame(rows)
    demand = aggregate_demand(lines).collect()
    # The memory-bounded, partitioned run gives exactly the same rows.
    assert collect_demand(lines, partitions=3).equals(demand)

    expected: dict[tuple[str, dt.date], int] = {}
    expected_priority: dict[tuple[str, dt.date], int] = {}
    for _, _, _, _, day, category, quantity, priority in rows:
        expected[(category, day)] = expected.get((category, day), 0) + quantity
        if priority:
            key = (category, day)
            expected_priority[key] = expected_priority.get(key, 0) + quantity

    got: dict[tuple[str, dt.date], int] = {}
    got_priority: dict[tuple[str, dt.date], int] = {}
    for row in demand.iter_rows(named=True):
        key = (row["category_id"], row["delivery_date"])
        got[key] = got.get(key, 0) + row["quantity_units"]
        got_priority[key] = got_priority.get(key, 0) + row["priority_quantity_units"]
        assert 0 <= row["priority_quantity_units"] <= row["quantity_units"]
        assert 0 <= row["priority_households"] <= row["households"]
    assert got == expected
    assert {k: v for k, v in got_priority.items() if v} == expected_priority

    # Each output row is made only of lines of its own date: re-aggregating one day alone
    # gives the same rows as the full run restricted to that day.
    for day in {r[4] for r in rows}:
        alone = aggregate_demand(lines.filter(pl.col("delivery_date") == day)).collect()
        assert alone.equals(demand.filter(pl.col("delivery_date") == day))
    assert demand.select(
        pl.struct(["compound_id", "building_id", "category_id", "delivery_date"]).is_unique().all()
    ).item()
