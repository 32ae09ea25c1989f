"""Documents as data: splits by largest remainder with priority first, route sheets equal to
the plan, notices' slots and messages, no household data outside the leader's list."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from data.geo import haversine_m
from data.schemas import (
    SHANGHAI,
    Building,
    Category,
    Compound,
    Driver,
    Gate,
    HouseholdOrder,
    OrderItem,
    PriorityFlag,
    Vehicle,
)
from routing.matrix import FloatArray, Matrix
from routing.model import Delivery, RoutingProblem, RoutingVehicle
from routing.result import Plan, Route, Stop, Unassigned, UnassignedReason, category_loads
from routing.sheets import (
    Documents,
    LeaderSortingList,
    SheetParams,
    SortingList,
    apportion,
    build_documents,
    build_documents_in_parts,
    split_priority_first,
    to_json,
    write_documents,
)

DAY = dt.datetime(2022, 4, 15, 0, 0, tzinfo=SHANGHAI)  # a Friday
TODAY = DAY.date()
DEPOT = (121.40, 31.20)
GATES = {"c1-g1": (121.41, 31.20), "c2-g1": (121.41, 31.21)}


def at(hhmm: str) -> dt.datetime:
    hours, minutes = hhmm.split(":")
    return DAY + dt.timedelta(hours=int(hours), minutes=int(minutes))


class GridMatrix:
    """Metres = 100 000 × (|Δlon| + |Δlat|), at 5 m/s: legs easy to state exactly."""

    def matrix(self, lons: FloatArray, lats: FloatArray) -> Matrix:
        metres = np.abs(lons[:, None] - lons[None, :]) + np.abs(lats[:, None] - lats[None, :])
        distance = np.rint(metres * 100_000).astype(np.int64)
        return Matrix(distance, distance // 5)


COMPOUNDS = [
    Compound(compound_id="c1", name="阳光小区", district="浦东新区", lon=121.411, lat=31.2,
             households=300),
    Compound(compound_id="c2", name="和平苑", district="浦东新区", lon=121.41, lat=31.211,
             households=100),
]  # fmt: skip
BUILDINGS = [
    Building(building_id="c1-b1", compound_id="c1", name="1号楼", lon=121.411, lat=31.20,
             households=100),
    Building(building_id="c1-b2", compound_id="c1", name="2号楼", lon=121.412, lat=31.201,
             households=100),
    Building(building_id="c2-b1", compound_id="c2", name="5号楼", lon=121.41, lat=31.211,
             households=100),
]  # fmt: skip
GATE_MODELS = [
    Gate(gate_id="c1-g1", compound_id="c1", name="东门", lon=121.41, lat=31.20),
    Gate(gate_id="c2-g1", compound_id="c2", name="南门", lon=121.41, lat=31.21),
]
CATEGORIES = [
    Category(category_id="veg", name_zh="蔬菜", name_en="vegetables", unit="份",
             unit_weight_g=5000),
    Category(category_id="eggs", name_zh="鸡蛋", name_en="eggs", unit="盒", unit_weight_g=2000),
]  # fmt: skip
VEHICLES = [
    Vehicle(vehicle_id="v1", supplier_id="s1", depot_id="dep1", plate="沪A·12345",
            capacity_kg=500, capacity_units=100, refrigerated=True),
]  # fmt: skip
DRIVERS = [Driver(driver_id="drv1", supplier_id="s1", name="王师傅", phone="13700000001")]


def order(
    order_id: str,
    building: str,
    room: str,
    name: str,
    items: dict[str, int],
    flags: frozenset[PriorityFlag] = frozenset(),
    day: dt.date = TODAY,
) -> HouseholdOrder:
    return HouseholdOrder(
        order_id=order_id,
        compound_id=building.split("-")[0],
        building_id=building,
        room=room,
        delivery_date=day,
        items=tuple(OrderItem(category_id=c, quantity_units=q) for c, q in items.items()),
        priority_flags=flags,
        household_name=name,
        phone=f"139000{room}0",
    )


ORDERS = [
    order("o-101", "c1-b1", "101", "张阿姨", {"veg": 2}, frozenset({PriorityFlag.elderly})),
    order("o-102", "c1-b1", "102", "李先生", {"veg": 3, "eggs": 1}),
    order("o-103", "c1-b1", "103", "孙女士", {"veg": 2}),
    order("o-201", "c1-b2", "201", "王女士", {"veg": 4}),
    order(
        "o-202", "c1-b2", "202", "赵先生", {"veg": 1, "eggs": 2}, frozenset({PriorityFlag.infant})
    ),
    order("o-501", "c2-b1", "501", "陈先生", {"veg": 2, "eggs": 1}),
    order("o-999", "c1-b1", "104", "周先生", {"veg": 5}, day=dt.date(2022, 4, 16)),  # not today
]
NAMES = ("张阿姨", "李先生", "孙女士", "王女士", "赵先生", "陈先生")
PHONES = tuple(o.phone for o in ORDERS)


def delivery(delivery_id: str, compound: str, category: str, units: int, kg: int) -> Delivery:
    gate = f"{compound}-g1"
    return Delivery(
        delivery_id=delivery_id, supplier_id="s1", compound_id=compound, gate_id=gate,
        lon=GATES[gate][0], lat=GATES[gate][1], category_id=category, quantity_units=units,
        weight_kg=kg, window_start=at("09:00"), window_end=at("17:00"),
    )  # fmt: skip


PROBLEM = RoutingProblem(
    day_start=DAY,
    deliveries=(
        delivery("del-1", "c1", "veg", 8, 40),
        delivery("del-2", "c1", "eggs", 3, 6),
        delivery("del-3", "c2", "veg", 2, 10),
        delivery("del-4", "c2", "eggs", 1, 2),
    ),
    vehicles=(
        RoutingVehicle(
            vehicle_id="v1", supplier_id="s1", depot_id="dep1", depot_lon=DEPOT[0],
            depot_lat=DEPOT[1], capacity_kg=500, capacity_units=100, refrigerated=True,
            shift_start=at("08:00"), shift_end=at("18:00"), driver_id="drv1",
            driver_test_valid_until=at("20:00"), vehicle_pass_valid_until=at("23:00"),
        ),
    ),
)  # fmt: skip


def stop(
    delivery_id: str,
    compound: str,
    category: str,
    units: int,
    kg: int,
    times: str,
    trip: int = 0,
    wait_s: int = 0,
) -> Stop:
    """A stop arriving, starting service and leaving at ``times`` ("hh:mm hh:mm hh:mm")."""
    arrival, start, departure = (at(t) for t in times.split())
    return Stop(
        delivery_id=delivery_id, compound_id=compound, gate_id=f"{compound}-g1",
        category_id=category, quantity_units=units, weight_kg=kg, arrival=arrival,
        service_start=start, departure=departure, window_start=at("09:00"),
        window_end=at("17:00"), trip=trip, gate_wait_s=wait_s,
    )  # fmt: skip


STOPS = (
    stop("del-1.1", "c1", "veg", 4, 20, "08:50 09:00 09:10"),
    stop("del-2", "c1", "eggs", 2, 4, "09:10 09:10 09:15"),
    stop("del-3", "c2", "veg", 2, 10, "09:35 09:35 09:45"),
    stop("del-4", "c2", "eggs", 1, 2, "09:45 09:45 09:50"),
    stop("del-1.2", "c1", "veg", 4, 20, "10:40 10:45 10:55", trip=1, wait_s=300),  # gate full
)
PLAN = Plan(
    routes=(
        Route(
            vehicle_id="v1", supplier_id="s1", depot_id="dep1", driver_id="drv1",
            start=at("08:30"), end=at("11:20"), stops=STOPS, distance_m=6000, load_units=13,
            load_kg=56, trips=2, duration_s=int((at("11:20") - at("08:30")).total_seconds()),
            load_by_category=category_loads(STOPS),
        ),
    ),
    unassigned=(
        Unassigned(delivery_id="del-2", quantity_units=1, reason=UnassignedReason.gate_busy),
    ),
    distance_m=6000,
    solve_time_s=0.1,
    seed=0,
)  # fmt: skip


def documents(**changes: object) -> Documents:
    values: dict[str, object] = {
        "compounds": COMPOUNDS,
        "buildings": BUILDINGS,
        "gates": GATE_MODELS,
        "categories": CATEGORIES,
        "vehicles": VEHICLES,
        "drivers": DRIVERS,
        "orders": ORDERS,
        "matrix": GridMatrix(),
        "pickup_points": {"c1-b2": ("2号楼架空层", 40)},
    }
    values.update(changes)
    return build_documents(PROBLEM, PLAN, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def docs() -> Documents:
    return documents()


def sorting(docs: Documents, compound_id: str) -> SortingList:
    return next(s for s in docs.sorting_lists if s.compound_id == compound_id)


def leader(docs: Documents, compound_id: str) -> LeaderSortingList:
    return next(s for s in docs.leader_sorting_lists if s.sorting_list.compound_id == compound_id)


def test_apportion_is_largest_remainder_with_ties_to_the_first() -> None:
    assert apportion(10, [1, 2, 3]) == [2, 3, 5]  # quotas 1.67, 3.33, 5
    assert apportion(5, [5, 4]) == [3, 2]  # quotas 2.78, 2.22
    assert apportion(2, [1, 1, 1]) == [1, 1, 0]
    assert apportion(0, [0, 0]) == [0, 0]
    with pytest.raises(ValueError, match="sum to zero"):
        apportion(1, [0, 0])


def test_split_serves_priority_first_then_the_rest_then_reports_surplus() -> None:
    assert split_priority_first(3, [2, 2], [5, 5]) == ([2, 1], [0, 0], 0)
    assert split_priority_first(8, [2, 1], [5, 4]) == ([2, 1], [3, 2], 0)
    assert split_priority_first(15, [1, 1], [2, 3]) == ([1, 1], [2, 3], 8)


def test_sorting_list_splits_delivered_units_over_buildings_exactly(docs: Documents) -> None:
    c1 = sorting(docs, "c1")
    veg, eggs = c1.categories
    assert (veg.category.category_id, veg.ordered_units, veg.priority_ordered_units) == (
        "veg", 12, 3
    )  # fmt: skip
    assert (veg.planned_units, veg.delivered_units, veg.short_units) == (8, 8, 4)
    assert (eggs.ordered_units, eggs.planned_units, eggs.delivered_units) == (3, 3, 2)
    lines = {(b.building_id, x.category_id): x for b in c1.buildings for x in b.lines}
    # veg: priority 2 + 1 first, the other 5 over non-priority orders 5 : 4 → 3 : 2
    assert (lines["c1-b1", "veg"].units, lines["c1-b1", "veg"].priority_units) == (5, 2)
    assert (lines["c1-b2", "veg"].units, lines["c1-b2", "veg"].priority_units) == (3, 1)
    # eggs short: the priority household's 2 come first, the other building gets none
    assert (lines["c1-b1", "eggs"].ordered_units, lines["c1-b1", "eggs"].units) == (1, 0)
    assert (lines["c1-b2", "eggs"].units, lines["c1-b2", "eggs"].priority_units) == (2, 2)
    for total in c1.categories:
        got = sum(x.units for (_, c), x in lines.items() if c == total.category.category_id)
        assert got == total.delivered_units
    assert [b.units for b in c1.buildings] == [5, 5]
    assert c1.short and not sorting(docs, "c2").short


def test_sorting_list_says_what_is_short_and_why(docs: Documents) -> None:
    c1 = sorting(docs, "c1")
    assert c1.notes_zh[0].startswith("蔬菜：订购 12，到货 8，少 4（4 未匹配到供应商")
    assert "优先户（老人、孕妇、婴幼儿、病患等）订购 3，先分到 3" in c1.notes_zh[0]
    assert c1.notes_en[1].startswith("eggs: ordered 3, delivered 2, short 1 (0 not matched")
    assert "1 left off today's routes" in c1.notes_en[1]
    assert [(a.delivery_id, a.gate_name, a.plate) for a in c1.arrivals] == [
        ("del-1.1", "东门", "沪A·12345"),
        ("del-2", "东门", "沪A·12345"),
        ("del-1.2", "东门", "沪A·12345"),
    ]


def test_leader_list_splits_each_building_over_its_households(docs: Documents) -> None:
    lines = leader(docs, "c1").households
    assert [(h.room, h.household_name, h.category_id, h.ordered_units, h.units) for h in lines] == [
        ("101", "张阿姨", "veg", 2, 2),
        ("102", "李先生", "veg", 3, 2),  # 3 over orders 3 : 2 → quotas 1.8, 1.2
        ("102", "李先生", "eggs", 1, 0),
        ("103", "孙女士", "veg", 2, 1),
        ("201", "王女士", "veg", 4, 2),
        ("202", "赵先生", "veg", 1, 1),
        ("202", "赵先生", "eggs", 2, 2),
    ]
    assert lines[0].phone == "1390001010" and lines[0].priority_flags == (PriorityFlag.elderly,)
    assert all(h.building_name in ("1号楼", "2号楼") for h in lines)


def test_household_data_only_in_the_leader_version(docs: Documents) -> None:
    public = "".join(
        to_json(d) for d in (*docs.sorting_lists, *docs.pickup_notices, *docs.route_sheets)
    )
    for secret in (*NAMES, *PHONES, '"room"', '"phone"', '"priority_flags"'):
        assert secret not in public
    private = to_json(leader(docs, "c1"))
    assert "张阿姨" in private and "1390001010" in private and '"room": "101"' in private
    with pytest.raises(ValidationError, match="households"):
        SortingList.model_validate(sorting(docs, "c1").model_dump() | {"households": []})


def test_route_sheet_follows_the_plan_with_legs_and_unloads(docs: Documents) -> None:
    (sheet,) = docs.route_sheets
    assert (sheet.plate, sheet.driver_name, sheet.refrigerated) == ("沪A·12345", "王师傅", True)
    assert sheet.driver_test_valid_until == at("20:00")
    assert sheet.vehicle_pass_valid_until == at("23:00")
    assert (sheet.trips, sheet.units, sheet.weight_kg, sheet.distance_m) == (2, 13, 56, 6000)
    assert [(s.sequence, s.trip, s.gate_name, s.compound_name) for s in sheet.stops] == [
        (1, 0, "东门", "阳光小区"),
        (2, 0, "南门", "和平苑"),
        (3, 1, "东门", "阳光小区"),
    ]
    # one sheet stop per gate visit: arrival of its first plan stop, departure of its last
    assert [(s.arrival, s.departure) for s in sheet.stops] == [
        (STOPS[0].arrival, STOPS[1].departure),
        (STOPS[2].arrival, STOPS[3].departure),
        (STOPS[4].arrival, STOPS[4].departure),
    ]
    assert [d for s in sheet.stops for x in s.unload for d in x.delivery_ids] == [
        s.delivery_id for s in STOPS
    ]
    assert [u for s in sheet.stops for x in s.unload for u in x.delivery_units] == [
        s.quantity_units for s in STOPS
    ]
    assert all(sum(x.delivery_units) == x.units for s in sheet.stops for x in s.unload)
    assert [(s.leg_from, s.leg_distance_m, s.leg_duration_s) for s in sheet.stops] == [
        ("depot", 1000, 200),
        ("previous_stop", 1000, 200),
        ("depot", 1000, 200),
    ]
    assert (sheet.return_distance_m, sheet.stops[2].gate_wait_s) == (1000, 300)
    first = sheet.stops[0]
    assert (first.units, first.weight_kg) == (6, 24)
    assert first.gate_contact_role == "小区门口志愿者 / gate volunteer"
    assert [
        (x.category.category_id, x.units, [(b.building_name, b.units) for b in x.buildings])
        for x in first.unload
    ] == [("veg", 4, [("1号楼", 3), ("2号楼", 1)]), ("eggs", 2, [("2号楼", 2)])]
    # priority units ride the earliest truck; the second trip brings the rest
    assert [(b.building_id, b.units) for b in sheet.stops[2].unload[0].buildings] == [
        ("c1-b1", 2),
        ("c1-b2", 2),
    ]


def test_pickup_notice_time_slot_place_and_message(docs: Documents) -> None:
    notices = {n.building_id: n for n in docs.pickup_notices}
    assert sorted(notices) == ["c1-b1", "c1-b2", "c2-b1"]
    b1 = notices["c1-b1"]  # goods on the 08:50 and 10:40 trucks: +30 min to +2 h
    assert (b1.slot_start, b1.slot_end) == (at("09:20"), at("12:40"))
    walk = round(haversine_m(121.411, 31.20, *GATES["c1-g1"]))
    assert (b1.pickup_point, b1.walking_m, b1.at_gate) == ("东门", walk, True)
    assert [(x.category.category_id, x.ordered_units, x.units) for x in b1.lines] == [
        ("veg", 7, 5),
        ("eggs", 1, 0),
    ]
    assert b1.short
    assert b1.message_zh.splitlines()[:4] == [
        "【阳光小区 1号楼 团购到货取货通知】",
        "取货时间：4月15日（周五）09:20–12:40",
        f"取货地点：东门（离本楼约 {walk} 米）",
        "本楼到货：蔬菜 5 份",
    ]
    assert "由志愿者送货上门" in b1.message_zh and "优先保障老人" in b1.message_zh
    assert "When: Fri 15 Apr, 09:20–12:40" in b1.message_en
    assert "volunteers bring your goods to your door" in b1.message_en
    b2 = notices["c1-b2"]
    assert (b2.pickup_point, b2.walking_m, b2.at_gate) == ("2号楼架空层", 40, False)
    c2 = notices["c2-b1"]  # 09:35 and 09:45 arrivals, rounded up to 10 minutes
    assert (c2.slot_start, c2.slot_end, c2.short) == (at("10:10"), at("11:50"), False)
    assert "本楼到货：蔬菜 2 份、鸡蛋 1 盒" in c2.message_zh
    assert "优先保障" not in c2.message_zh


def test_slot_parameters_move_the_slot() -> None:
    params = SheetParams(pickup_opens_after_s=3600, pickup_closes_after_s=3 * 3600,
                         slot_rounding_min=1)  # fmt: skip
    notice = next(n for n in documents(params=params).pickup_notices if n.building_id == "c2-b1")
    assert (notice.slot_start, notice.slot_end) == (at("10:35"), at("12:45"))
    with pytest.raises(ValidationError, match="not after"):
        SheetParams(pickup_opens_after_s=7200, pickup_closes_after_s=3600)


def test_an_empty_plan_names_the_compounds_left_without_delivery() -> None:
    empty = Plan(routes=(), unassigned=(), distance_m=0, solve_time_s=0.0, seed=0)
    docs = build_documents(
        PROBLEM, empty, compounds=COMPOUNDS, buildings=BUILDINGS, gates=GATE_MODELS,
        categories=CATEGORIES, vehicles=VEHICLES, drivers=DRIVERS, orders=ORDERS,
    )  # fmt: skip
    assert docs.compounds_not_delivered == ("c1", "c2")
    assert not docs.route_sheets and not docs.sorting_lists and not docs.pickup_notices


def test_write_documents_lays_out_files_and_removes_stale_ones(
    docs: Documents, tmp_path: Path
) -> None:
    stale = tmp_path / "notices" / "old" / "x.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}", encoding="utf-8")
    index_path = write_documents(docs, tmp_path)
    index = json.loads(index_path.read_text(encoding="utf-8"))
    assert index["route_sheets"] == ["route_sheets/v1.json"]
    assert index["sorting_lists"] == ["sorting_lists/c1.json", "sorting_lists/c2.json"]
    assert index["leader_sorting_lists"] == [
        "sorting_lists_leader/c1.json",
        "sorting_lists_leader/c2.json",
    ]
    assert index["pickup_notices"] == [
        "notices/c1/c1-b1.json",
        "notices/c1/c1-b2.json",
        "notices/c2/c2-b1.json",
    ]
    assert not stale.exists() and not stale.parent.exists()
    text = (tmp_path / "notices" / "c1" / "c1-b1.json").read_text(encoding="utf-8")
    assert "取货时间" in text and "\\u" not in text
    again = SortingList.model_validate_json(
        (tmp_path / "sorting_lists" / "c1.json").read_text(encoding="utf-8")
    )
    assert again == sorting(docs, "c1")


def test_a_vehicle_missing_from_the_reference_data_is_named() -> None:
    with pytest.raises(ValueError, match=r"vehicle 'v1'.*pass the store's vehicles"):
        documents(vehicles=[])


def test_documents_in_parts_are_the_documents_of_the_whole_day(docs: Documents) -> None:
    parts: list[Documents] = []
    by_compound = [
        ({"c2"}, [o for o in ORDERS if o.compound_id == "c2"]),
        ({"c1"}, [o for o in ORDERS if o.compound_id == "c1"]),
    ]
    kwargs = {
        "compounds": COMPOUNDS, "buildings": BUILDINGS, "gates": GATE_MODELS,
        "categories": CATEGORIES, "vehicles": VEHICLES, "drivers": DRIVERS,
        "matrix": GridMatrix(), "pickup_points": {"c1-b2": ("2号楼架空层", 40)},
    }  # fmt: skip
    whole = build_documents_in_parts(
        PROBLEM,
        PLAN,
        by_compound,
        on_part=parts.append,
        **kwargs,  # type: ignore[arg-type]
    )
    assert whole.route_sheets == docs.route_sheets
    assert whole.compounds_not_delivered == docs.compounds_not_delivered
    assert [len(p.sorting_lists) for p in parts] == [1, 1]
    assert tuple(s for p in reversed(parts) for s in p.sorting_lists) == docs.sorting_lists
    notices = sorted((n for p in parts for n in p.pickup_notices), key=lambda n: n.building_id)
    assert notices == sorted(docs.pickup_notices, key=lambda n: n.building_id)
    leaders = [s for p in reversed(parts) for s in p.leader_sorting_lists]
    assert tuple(leaders) == docs.leader_sorting_lists
    with pytest.raises(ValueError, match="in no part"):
        build_documents_in_parts(PROBLEM, PLAN, by_compound[:1], on_part=parts.append, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="more than one part"):
        build_documents_in_parts(PROBLEM, PLAN, by_compound * 2, on_part=parts.append, **kwargs)  # type: ignore[arg-type]
