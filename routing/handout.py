"""A building's hand-out sheet (派发单) for its volunteers, as data, and the hand-out steps.

The sheet lists room numbers and what each room gets (package and units), the rooms to
bring to the door marked, and the steps received → disinfected → handed out of each of the
day's deliveries. It never carries a household's name, phone or priority reason: a room is
marked "送货上门 / door delivery" when the line was ordered by proxy or for an elderly or
disabled resident, or when the compound is sealed (封控: every room), without saying why.

Lines come from household orders of the demand-first flow (delivery key ``""``, the whole
day) and from group sign-ups (delivery key: the group id). Steps are recorded in order,
each once per building and delivery, at non-decreasing times.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence

from pydantic import Field

from data.schemas import (
    AwareDatetime,
    Building,
    Category,
    Compound,
    HouseholdOrder,
    Identifier,
    Model,
    PriorityFlag,
)

DOOR_FLAGS = frozenset({PriorityFlag.elderly, PriorityFlag.disability})
"""Priority flags whose lines volunteers bring to the door (the sheet never says which)."""

DAY_KEY = ""
"""Delivery key of the demand-first household orders of the day (no group)."""


class HandoutStep(enum.StrEnum):
    """Steps of a building's hand-out, in the order they happen."""

    received = "received"  # the volunteer took the building's goods at the drop point
    disinfected = "disinfected"  # 消杀
    handed_out = "handed_out"  # to the doors or at the pickup point


STEP_ORDER: tuple[HandoutStep, ...] = tuple(HandoutStep)

STEP_ZH = {
    HandoutStep.received: "已接收",
    HandoutStep.disinfected: "已消杀",
    HandoutStep.handed_out: "已派发",
}


class HandoutLine(Model):
    """Input: one household line of a building (private fields stay here, never on the sheet)."""

    room: str = Field(min_length=1)
    package: str = Field(min_length=1, description="package or category name as residents say it")
    units: int = Field(gt=0)
    proxy: bool = False
    priority_flags: frozenset[PriorityFlag] = frozenset()
    delivery_key: str = Field(default=DAY_KEY, max_length=128)


class HandoutItem(Model):
    """A package and how many units of it go to one room."""

    package: str
    units: int = Field(gt=0)


class HandoutRoom(Model):
    """One room of the sheet: what it gets and whether the volunteer brings it to the door."""

    room: str
    items: tuple[HandoutItem, ...] = Field(min_length=1)
    units: int = Field(gt=0)
    door_delivery: bool


class PackageTotal(Model):
    """A package over the whole building: units and rooms, to check the goods received."""

    package: str
    units: int = Field(gt=0)
    rooms: int = Field(gt=0)


class StepRecord(Model):
    """A hand-out step done: which delivery, when, by whom (a user name, not a resident)."""

    delivery_key: str = Field(default=DAY_KEY, max_length=128)
    step: HandoutStep
    at: AwareDatetime
    recorded_by: str


class DeliveryProgress(Model):
    """One delivery of the day for this building and how far its hand-out has got."""

    delivery_key: str
    label: str
    steps: tuple[StepRecord, ...]
    next_step: HandoutStep | None = Field(description="None: handed out")


class HandoutSheet(Model):
    """派发单 of one building for its volunteers: rooms, packages, door deliveries, steps."""

    compound_id: Identifier
    compound_name: str
    building_id: Identifier
    building_name: str
    delivery_date: dt.date
    sealed: bool = Field(description="封控: every room gets door delivery")
    slot_start: AwareDatetime | None = Field(
        default=None, description="the building's hand-out slot from the day's plan, if planned"
    )
    slot_end: AwareDatetime | None = None
    rooms: tuple[HandoutRoom, ...]
    totals: tuple[PackageTotal, ...]
    units: int = Field(ge=0)
    door_rooms: int = Field(ge=0, description="rooms the volunteer brings the goods to")
    deliveries: tuple[DeliveryProgress, ...]
    notes_zh: tuple[str, ...]
    notes_en: tuple[str, ...]


class HandoutStepError(ValueError):
    """A step recorded out of order, twice, or earlier than the step before it."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def lines_from_orders(
    orders: Iterable[HouseholdOrder],
    building_id: str,
    day: dt.date,
    categories: Sequence[Category],
) -> list[HandoutLine]:
    """The building's household-order lines of ``day``: one per order item, the product
    name as ordered (else the category's Chinese name) as the package."""
    names = {c.category_id: c.name_zh for c in categories}
    return [
        HandoutLine(
            room=order.room,
            package=item.product or names.get(item.category_id, item.category_id),
            units=item.quantity_units,
            proxy=order.proxy,
            priority_flags=order.priority_flags,
        )
        for order in orders
        if order.building_id == building_id and order.delivery_date == day
        for item in order.items
    ]


def _room_key(room: str) -> tuple[int, str]:
    """Rooms in reading order: numeric rooms by number, then the rest by text."""
    digits = "".join(ch for ch in room if ch.isdigit())
    return (int(digits) if digits and digits == room else 10**9, room)


def next_step(done: Sequence[StepRecord]) -> HandoutStep | None:
    """The step that comes after ``done`` (one delivery's steps), or None when handed out."""
    taken = {record.step for record in done}
    for step in STEP_ORDER:
        if step not in taken:
            return step
    return None


def check_step(done: Sequence[StepRecord], step: HandoutStep, at: dt.datetime) -> None:
    """Raise ``HandoutStepError`` unless ``step`` at ``at`` may follow ``done``."""
    if any(record.step is step for record in done):
        raise HandoutStepError(f"step {step} is recorded already for this delivery", "conflict")
    expected = next_step(done)
    if step is not expected:
        raise HandoutStepError(
            f"step {step} cannot come now: record {expected} first "
            "(received → disinfected → handed_out)",
            "out_of_order",
        )
    last = max((record.at for record in done), default=None)
    if last is not None and at < last:
        raise HandoutStepError(
            f"at {at.isoformat()} is before the previous step at {last.isoformat()}; "
            "give the time the step was done",
            "out_of_order",
        )


def build_handout(
    compound: Compound,
    building: Building,
    day: dt.date,
    lines: Sequence[HandoutLine],
    *,
    sealed: bool,
    steps: Sequence[StepRecord] = (),
    labels: dict[str, str] | None = None,
    slot: tuple[dt.datetime, dt.datetime] | None = None,
) -> HandoutSheet:
    """The hand-out sheet of ``building`` on ``day`` from its household ``lines``.

    ``labels`` names each delivery key (e.g. a group's package); ``steps`` are the steps
    recorded for this building and day; ``slot`` is the building's hand-out slot.
    """
    per_room: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    door: set[str] = set()
    keys: set[str] = set()
    for line in lines:
        per_room[line.room][line.package] += line.units
        keys.add(line.delivery_key)
        if sealed or line.proxy or line.priority_flags & DOOR_FLAGS:
            door.add(line.room)
    rooms = tuple(
        HandoutRoom(
            room=room,
            items=tuple(HandoutItem(package=p, units=u) for p, u in sorted(items.items())),
            units=sum(items.values()),
            door_delivery=room in door,
        )
        for room, items in sorted(per_room.items(), key=lambda ri: _room_key(ri[0]))
    )
    units: dict[str, int] = defaultdict(int)
    room_count: dict[str, int] = defaultdict(int)
    for room in rooms:
        for item in room.items:
            units[item.package] += item.units
            room_count[item.package] += 1
    keys |= {record.delivery_key for record in steps}
    labels = labels or {}
    deliveries = []
    for key in sorted(keys):
        done = tuple(sorted((r for r in steps if r.delivery_key == key), key=lambda r: r.at))
        label = labels.get(key) or (
            "当日订单 household orders of the day" if key == DAY_KEY else key
        )
        deliveries.append(
            DeliveryProgress(delivery_key=key, label=label, steps=done, next_step=next_step(done))
        )
    if sealed:
        notes_zh = ("本小区封控：所有物资消杀后由志愿者送到各户门口，住户不下楼。",)
        notes_en = (
            "The compound is sealed: after disinfection volunteers bring every room's goods "
            "to its door; residents stay at home.",
        )
    else:
        notes_zh = ("标注“送货上门”的房间请志愿者送到门口，其余住户到取货点领取。",)
        notes_en = (
            "Rooms marked door delivery get their goods at the door; the others collect at "
            "the pickup point.",
        )
    return HandoutSheet(
        compound_id=compound.compound_id,
        compound_name=compound.name,
        building_id=building.building_id,
        building_name=building.name,
        delivery_date=day,
        sealed=sealed,
        slot_start=None if slot is None else slot[0],
        slot_end=None if slot is None else slot[1],
        rooms=rooms,
        totals=tuple(
            PackageTotal(package=p, units=units[p], rooms=room_count[p]) for p in sorted(units)
        ),
        units=sum(room.units for room in rooms),
        door_rooms=len(door),
        deliveries=tuple(deliveries),
        notes_zh=notes_zh,
        notes_en=notes_en,
    )
