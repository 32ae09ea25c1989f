"""Problem construction: from a compound-demand frame, and validation messages."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from pydantic import ValidationError

from data.aggregate import aggregate_demand, compound_demand
from data.schemas import ORDER_LINE_SCHEMA
from matcher.model import DemandRow, Problem
from tests.matcher.instances import DAY, WINDOW_END, WINDOW_START, one_pair


def test_from_frames_keeps_the_day_and_the_priority_part() -> None:
    world = one_pair()
    lines = pl.LazyFrame(
        [
            ("o1", "c1", "b1", "h1", DAY, "veg", 3, True),
            ("o2", "c1", "b2", "h2", DAY, "veg", 4, False),
            ("o3", "c1", "b2", "h3", DAY + dt.timedelta(days=1), "veg", 9, False),
        ],
        schema=ORDER_LINE_SCHEMA,
        orient="row",
    )
    frame = compound_demand(aggregate_demand(lines))
    problem = Problem.from_frames(
        DAY,
        frame,
        categories=world.categories,
        compounds=world.compounds,
        offers=world.offers,
        suppliers=world.suppliers,
        depots=world.depots,
        vehicles=world.vehicles,
        drivers=world.drivers,
        certificates=world.certificates,
    )
    assert problem.demand == (
        DemandRow(
            compound_id="c1",
            category_id="veg",
            quantity_units=7,
            priority_quantity_units=3,
            households=2,
            priority_households=1,
        ),
    )
    assert (problem.window_start, problem.window_end) == (WINDOW_START, WINDOW_END)


def test_unknown_reference_is_named() -> None:
    world = one_pair()
    world.add_offer("o2", "nobody", "veg", 5)
    with pytest.raises(ValidationError, match="unknown supplier_id 'nobody'"):
        world.problem()


def test_priority_above_demand_is_rejected() -> None:
    with pytest.raises(ValidationError, match="exceeds"):
        DemandRow(compound_id="c1", category_id="veg", quantity_units=2, priority_quantity_units=3)


def test_naive_window_is_rejected() -> None:
    world = one_pair()
    problem = world.problem()
    with pytest.raises(ValidationError, match="timezone"):
        Problem.model_validate(
            {**problem.model_dump(), "window_start": dt.datetime(2022, 4, 12, 7)}
        )
