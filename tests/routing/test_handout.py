"""The building hand-out sheet: rooms and packages, door delivery marked without reasons."""

from __future__ import annotations

import pytest

from data.schemas import PriorityFlag
from routing.handout import (
    HandoutLine,
    HandoutStep,
    HandoutStepError,
    StepRecord,
    build_handout,
    check_step,
    lines_from_orders,
    next_step,
)
from tests.routing.test_sheets import BUILDINGS, CATEGORIES, COMPOUNDS, ORDERS, TODAY, at

B1 = BUILDINGS[0]  # c1-b1: rooms 101 (elderly), 102, 103


def lines() -> list[HandoutLine]:
    own = lines_from_orders(ORDERS, "c1-b1", TODAY, CATEGORIES)
    signup = HandoutLine(room="103", package="蔬菜套餐 5kg", units=1, proxy=True,
                         delivery_key="g-1")  # fmt: skip
    infant = HandoutLine(room="102", package="蔬菜套餐 5kg", units=2, delivery_key="g-1",
                         priority_flags=frozenset({PriorityFlag.infant}))  # fmt: skip
    return [*own, signup, infant]


def test_rooms_packages_and_door_lines_without_reasons() -> None:
    sheet = build_handout(COMPOUNDS[0], B1, TODAY, lines(), sealed=False)
    rooms = {r.room: r for r in sheet.rooms}
    assert list(rooms) == ["101", "102", "103"]  # 104 orders for another day
    assert {i.package: i.units for i in rooms["102"].items} == {"蔬菜": 3, "鸡蛋": 1,
                                                               "蔬菜套餐 5kg": 2}  # fmt: skip
    # elderly (101) and proxy (103) go to the door; infant priority (102) does not
    assert [r.room for r in sheet.rooms if r.door_delivery] == ["101", "103"]
    assert sheet.door_rooms == 2 and sheet.units == 2 + 3 + 1 + 2 + 2 + 1
    assert {t.package: (t.units, t.rooms) for t in sheet.totals}["蔬菜"] == (7, 3)
    text = sheet.model_dump_json()
    for secret in ("张阿姨", "李先生", "139000", "elderly", "infant", "priority", "proxy"):
        assert secret not in text
    assert [d.delivery_key for d in sheet.deliveries] == ["", "g-1"]


def test_sealed_compound_marks_every_room_for_the_door() -> None:
    sheet = build_handout(COMPOUNDS[0], B1, TODAY, lines(), sealed=True)
    assert all(r.door_delivery for r in sheet.rooms) and sheet.door_rooms == 3
    assert sheet.sealed and "封控" in sheet.notes_zh[0]


def test_steps_in_order_once_each_at_non_decreasing_times() -> None:
    def done(*steps: tuple[HandoutStep, str]) -> list[StepRecord]:
        return [StepRecord(step=s, at=at(t), recorded_by="vol") for s, t in steps]

    assert next_step([]) is HandoutStep.received
    check_step([], HandoutStep.received, at("10:00"))
    with pytest.raises(HandoutStepError, match="record received first") as skipped:
        check_step([], HandoutStep.disinfected, at("10:00"))
    assert skipped.value.code == "out_of_order"
    got = done((HandoutStep.received, "10:00"))
    with pytest.raises(HandoutStepError, match="recorded already") as twice:
        check_step(got, HandoutStep.received, at("10:05"))
    assert twice.value.code == "conflict"
    with pytest.raises(HandoutStepError, match="before the previous step"):
        check_step(got, HandoutStep.disinfected, at("09:59"))
    check_step(got, HandoutStep.disinfected, at("10:20"))
    finished = done((HandoutStep.received, "10:00"), (HandoutStep.disinfected, "10:20"),
                    (HandoutStep.handed_out, "11:00"))  # fmt: skip
    assert next_step(finished) is None
    sheet = build_handout(COMPOUNDS[0], B1, TODAY, lines(), sealed=False, steps=finished)
    day = next(d for d in sheet.deliveries if d.delivery_key == "")
    assert day.next_step is None and [s.step for s in day.steps] == list(HandoutStep)
