"""Synthetic suppliers: seeded, every category sold, capacity scaled to expected demand."""

from __future__ import annotations

import datetime as dt

from data.generate import generate_city
from data.generate_supply import expected_units, generate_supply
from data.schemas import CertificateType

DAY = dt.date(2022, 4, 15)


def test_supply_is_seeded_and_covers_every_category() -> None:
    city = generate_city(60, seed=3)
    first = generate_supply(city.compounds, n_suppliers=6, delivery_date=DAY, seed=9)
    again = generate_supply(city.compounds, n_suppliers=6, delivery_date=DAY, seed=9)
    other = generate_supply(city.compounds, n_suppliers=6, delivery_date=DAY, seed=10)
    assert first == again
    assert first != other
    wanted = expected_units(int(city.compounds["households"].sum()))
    assert {o.category_id for o in first.offers} == set(wanted)
    for category_id, units in wanted.items():
        offered = sum(o.capacity_units for o in first.offers if o.category_id == category_id)
        assert abs(offered - 0.9 * units) <= max(6, 0.01 * units)  # rounding per offer
    assert all(o.delivery_date == DAY and o.service_area.max_distance_m for o in first.offers)
    assert {v.refrigerated for v in first.vehicles} == {True, False}


def test_some_suppliers_lack_a_supply_permit_on_request() -> None:
    city = generate_city(30, seed=1)
    supply = generate_supply(
        city.compounds, n_suppliers=40, delivery_date=DAY, seed=2, unlicensed_share=0.5
    )
    permitted = {
        c.holder_id for c in supply.certificates if c.type is CertificateType.supply_permit
    }
    assert 0 < len(permitted) < len(supply.suppliers)


def test_fleet_size_per_supplier_every_other_refrigerated() -> None:
    city = generate_city(20, seed=1)
    supply = generate_supply(
        city.compounds, n_suppliers=3, delivery_date=DAY, seed=2, vehicles_per_supplier=5
    )
    assert len(supply.vehicles) == 15
    for supplier in supply.suppliers:
        fleet = [v for v in supply.vehicles if v.supplier_id == supplier.supplier_id]
        assert sorted(v.refrigerated for v in fleet) == [False, False, True, True, True]
    passes = {c.holder_id for c in supply.certificates if c.type is CertificateType.vehicle_pass}
    assert passes == {v.vehicle_id for v in supply.vehicles}
