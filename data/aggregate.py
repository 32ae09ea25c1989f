"""Demand aggregation: order lines → demand per compound × building × category × delivery date.

A lazy polars pipeline over ``ORDER_LINE_SCHEMA``. Household identities (``household_key``,
``order_id``) are only counted here and never leave this step: the output carries counts
and quantities, with the part ordered by priority households kept apart so the matcher
can serve them first.
"""

from __future__ import annotations

import polars as pl

from data.errors import DataError, Issue
from data.schemas import DEMAND_SCHEMA, ORDER_LINE_SCHEMA

DEMAND_KEYS = ("compound_id", "building_id", "category_id", "delivery_date")
COMPOUND_DEMAND_KEYS = ("compound_id", "category_id", "delivery_date")


def check_order_lines(lines: pl.LazyFrame, *, source: str = "order lines") -> None:
    """Raise a DataError naming every missing or mistyped column of an order-line frame."""
    found = lines.collect_schema()
    issues = []
    for name, dtype in ORDER_LINE_SCHEMA.items():
        if name not in found:
            issues.append(
                Issue(source, None, name, "column is missing", f"add a '{name}' column ({dtype})")
            )
        elif found[name] != dtype and not (dtype == pl.Int64 and found[name].is_integer()):
            issues.append(
                Issue(
                    source,
                    None,
                    name,
                    f"column has type {found[name]}",
                    f"cast it to {dtype}",
                )
            )
    if issues:
        raise DataError(issues)


def aggregate_demand(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Demand per compound × building × category × delivery date, sorted by those keys.

    ``households`` counts distinct households ordering the category; the ``priority_*``
    columns repeat the sums for households with any priority flag. Quantities are summed as
    Int64, so totals per category and date are preserved exactly.
    """
    check_order_lines(lines)
    priority = pl.col("priority").fill_null(False)
    return (
        lines.select(ORDER_LINE_SCHEMA.names())
        .group_by(DEMAND_KEYS)
        .agg(
            pl.col("quantity_units").sum().cast(pl.Int64),
            pl.col("household_key").n_unique().cast(pl.Int64).alias("households"),
            pl.col("quantity_units")
            .filter(priority)
            .sum()
            .cast(pl.Int64)
            .alias("priority_quantity_units"),
            pl.col("household_key")
            .filter(priority)
            .n_unique()
            .cast(pl.Int64)
            .alias("priority_households"),
        )
        .select(DEMAND_SCHEMA.names())
        .sort(DEMAND_KEYS)
    )


def compound_demand(demand: pl.LazyFrame) -> pl.LazyFrame:
    """Roll building demand up to compound × category × delivery date.

    Household counts add up because each household belongs to exactly one building.
    """
    return (
        demand.group_by(COMPOUND_DEMAND_KEYS)
        .agg(
            pl.col("quantity_units").sum(),
            pl.col("households").sum(),
            pl.col("priority_quantity_units").sum(),
            pl.col("priority_households").sum(),
            pl.col("building_id").n_unique().cast(pl.Int64).alias("buildings"),
        )
        .sort(COMPOUND_DEMAND_KEYS)
    )


def empty_order_lines() -> pl.LazyFrame:
    """An order-line frame with no rows and the declared schema."""
    return pl.LazyFrame(schema=ORDER_LINE_SCHEMA)
