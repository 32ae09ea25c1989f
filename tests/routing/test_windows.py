"""Windows and shifts: hours intersect; a driver's test or a vehicle pass ends the shift."""

from __future__ import annotations

import datetime as dt

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
    Vehicle,
)
from routing.windows import Infeasible, Interval, WindowReason, stop_window, vehicle_shift

DAY = dt.date(2022, 4, 15)


def at(hour: float) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(0, 0), tzinfo=SHANGHAI) + dt.timedelta(hours=hour)


def hours(a: int, b: int) -> Hours:
    return Hours(opens_at=dt.time(a, 0), closes_at=dt.time(b, 0))


COMPOUND = Compound(compound_id="c1", name="小区", district="浦东新区", lon=121.55, lat=31.2,
                    households=100, receiving_hours=hours(8, 17))  # fmt: skip
DEPOT = Depot(depot_id="d1", supplier_id="s1", name="仓", lon=121.5, lat=31.2, hours=hours(5, 22))
VEHICLE = Vehicle(vehicle_id="v1", supplier_id="s1", depot_id="d1", plate="沪A1",
                  capacity_kg=1000, capacity_units=100)  # fmt: skip


def gate(a: int, b: int) -> Gate:
    return Gate(gate_id="g1", compound_id="c1", name="南门", lon=121.55, lat=31.2,
                receiving_hours=hours(a, b))  # fmt: skip


def vehicle_pass(start: float, end: float) -> Certificate:
    return Certificate(certificate_id="p1", type=CertificateType.vehicle_pass,
                       holder_kind=HolderKind.vehicle, holder_id="v1",
                       valid_from=at(start), valid_until=at(end))  # fmt: skip


def driver(tested_at_hour: float) -> Driver:
    return Driver(driver_id="r1", supplier_id="s1", name="王师傅", test_taken_at=at(tested_at_hour))


def test_stop_window_is_compound_and_gate_hours() -> None:
    assert stop_window(DAY, COMPOUND, gate(7, 12)) == Interval(start=at(8), end=at(12))
    blocked = stop_window(DAY, COMPOUND, gate(18, 20))
    assert isinstance(blocked, Infeasible) and blocked.reason is WindowReason.hours_disjoint
    assert "18:00" in blocked.detail


def test_shift_is_depot_hours_and_driver_day() -> None:
    shift = vehicle_shift(DAY, VEHICLE, DEPOT, driver(-10), [vehicle_pass(-24, 48)])
    assert shift == Interval(start=at(6), end=at(20))


def test_driver_test_expiring_mid_day_ends_the_shift() -> None:
    # Tested at 09:00 two days before: valid until 09:00 today.
    shift = vehicle_shift(DAY, VEHICLE, DEPOT, driver(-39), [vehicle_pass(-24, 48)])
    assert shift == Interval(start=at(6), end=at(9))
    expired = vehicle_shift(DAY, VEHICLE, DEPOT, driver(-60), [vehicle_pass(-24, 48)])
    assert isinstance(expired, Infeasible)
    assert expired.reason is WindowReason.driver_test_expired


def test_vehicle_pass_bounds_the_shift_or_blocks_it() -> None:
    short = vehicle_shift(DAY, VEHICLE, DEPOT, driver(-10), [vehicle_pass(-24, 14)])
    assert short == Interval(start=at(6), end=at(14))
    none = vehicle_shift(DAY, VEHICLE, DEPOT, driver(-10), [])
    assert isinstance(none, Infeasible) and none.reason is WindowReason.no_vehicle_pass
    nobody = vehicle_shift(DAY, VEHICLE, DEPOT, None, [vehicle_pass(-24, 48)])
    assert isinstance(nobody, Infeasible) and nobody.reason is WindowReason.no_driver
