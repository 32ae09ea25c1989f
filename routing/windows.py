"""Delivery windows and vehicle shifts: intersections of hours and certificate validity.

A stop's window is the compound's receiving hours (volunteers at the gate) ∩ the gate's.
A vehicle's shift is its depot's opening hours ∩ the driver's working day ∩ the validity
of the driver's 48-hour test and of the vehicle pass: the route must end before either
expires. An empty intersection is reported with its reason, never silently dropped.

Depot hours "shifted by travel" need no separate window: the shift bounds when the vehicle
leaves and returns, so a stop is reachable only in
window ∩ [shift start + travel out, shift end − service − travel back]; the solver
enforces that per route and ``solve`` reports a stop that no shift reaches as
``window_unreachable``. ``valid_until`` gives the expiry of the test and the pass that
cover a shift, so the checker can verify them independently.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

from data.schemas import (
    SHANGHAI,
    Certificate,
    CertificateType,
    Compound,
    Depot,
    Driver,
    Gate,
    HolderKind,
    Hours,
    Model,
    Vehicle,
)

DRIVER_DAY = Hours(opens_at=dt.time(6, 0), closes_at=dt.time(20, 0))
"""Default working hours of a driver."""


class WindowReason(enum.StrEnum):
    """Why a window or shift is empty."""

    hours_disjoint = "hours_disjoint"
    no_driver = "no_driver"
    driver_test_expired = "driver_test_expired"
    no_vehicle_pass = "no_vehicle_pass"


class Interval(Model):
    """A non-empty time interval [start, end)."""

    start: dt.datetime
    end: dt.datetime


class Infeasible(Model):
    """An empty window or shift, and why."""

    subject: str
    reason: WindowReason
    detail: str


def on_day(day: dt.date, hours: Hours) -> tuple[dt.datetime, dt.datetime]:
    """Daily ``hours`` as aware datetimes on ``day``."""
    return (
        dt.datetime.combine(day, hours.opens_at, tzinfo=SHANGHAI),
        dt.datetime.combine(day, hours.closes_at, tzinfo=SHANGHAI),
    )


def _intersect(*intervals: tuple[dt.datetime, dt.datetime]) -> Interval | None:
    start = max(i[0] for i in intervals)
    end = min(i[1] for i in intervals)
    return Interval(start=start, end=end) if start < end else None


def stop_window(day: dt.date, compound: Compound, gate: Gate) -> Interval | Infeasible:
    """When a truck may unload at ``gate``: compound ∩ gate receiving hours."""
    window = _intersect(on_day(day, compound.receiving_hours), on_day(day, gate.receiving_hours))
    if window is None:
        return Infeasible(
            subject=gate.gate_id,
            reason=WindowReason.hours_disjoint,
            detail=f"gate {gate.gate_id} receives {gate.receiving_hours.opens_at:%H:%M}-"
            f"{gate.receiving_hours.closes_at:%H:%M}, the compound "
            f"{compound.receiving_hours.opens_at:%H:%M}-{compound.receiving_hours.closes_at:%H:%M}",
        )
    return window


def valid_until(
    kind: CertificateType,
    holder_id: str,
    certificates: Iterable[Certificate],
    shift: Interval,
    driver: Driver | None = None,
) -> dt.datetime | None:
    """When the ``kind`` certificate of ``holder_id`` that covers ``shift`` expires.

    For a driver's test the driver's own ``test_taken_at`` counts too. ``None`` when no
    certificate covers the whole shift (``vehicle_shift`` would have cut it short).
    """
    ends = [
        c.valid_until
        for c in certificates
        if c.type is kind and c.holder_id == holder_id and c.covers(shift.start, shift.end)
    ]
    if driver is not None and driver.test_taken_at is not None:
        until = driver.test_valid_until
        if until is not None and driver.test_taken_at <= shift.start and shift.end <= until:
            ends.append(until)
    return max(ends, default=None)


def _validity(
    certificates: Iterable[Certificate], kind: CertificateType, holder: HolderKind, holder_id: str
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Validity intervals of the ``kind`` certificates of one holder."""
    return [
        (c.valid_from, c.valid_until)
        for c in certificates
        if c.type is kind and c.holder_kind is holder and c.holder_id == holder_id
    ]


def _longest_overlap(
    base: Interval, intervals: Iterable[tuple[dt.datetime, dt.datetime]]
) -> Interval | None:
    """The longest part of ``base`` covered by one of ``intervals``; None if none overlaps."""
    overlaps = [o for o in (_intersect((base.start, base.end), i) for i in intervals) if o]
    return max(overlaps, key=lambda o: o.end - o.start, default=None)


def vehicle_shift(
    day: dt.date,
    vehicle: Vehicle,
    depot: Depot,
    driver: Driver | None,
    certificates: Iterable[Certificate],
    *,
    driver_day: Hours = DRIVER_DAY,
) -> Interval | Infeasible:
    """When ``vehicle`` driven by ``driver`` may be on the road on ``day``."""
    if driver is None:
        return Infeasible(
            subject=vehicle.vehicle_id,
            reason=WindowReason.no_driver,
            detail=f"no driver is assigned to {vehicle.vehicle_id}",
        )
    base = _intersect(on_day(day, depot.hours), on_day(day, driver_day))
    if base is None:
        return Infeasible(
            subject=vehicle.vehicle_id,
            reason=WindowReason.hours_disjoint,
            detail=f"depot {depot.depot_id} hours and the driver's day do not overlap",
        )
    tests = _validity(
        certificates, CertificateType.driver_test, HolderKind.driver, driver.driver_id
    )
    if driver.test_taken_at is not None and driver.test_valid_until is not None:
        tests.append((driver.test_taken_at, driver.test_valid_until))
    test = _longest_overlap(base, tests)
    if test is None:
        return Infeasible(
            subject=vehicle.vehicle_id,
            reason=WindowReason.driver_test_expired,
            detail=f"driver {driver.driver_id} has no 48-hour test valid during the shift",
        )
    passes = _validity(
        certificates, CertificateType.vehicle_pass, HolderKind.vehicle, vehicle.vehicle_id
    )
    shift = _longest_overlap(test, passes)
    if shift is None:
        return Infeasible(
            subject=vehicle.vehicle_id,
            reason=WindowReason.no_vehicle_pass,
            detail=f"{vehicle.vehicle_id} has no vehicle pass valid during the shift",
        )
    return shift
