"""Door delivery under 封控 and pickup points pinned by a leader, in notices and lists."""

from __future__ import annotations

from routing.sheets import Documents, PickupNotice
from tests.routing.test_sheets import documents, sorting


def notice(docs: Documents, building_id: str) -> PickupNotice:
    return next(n for n in docs.pickup_notices if n.building_id == building_id)


def test_sealed_compound_gets_door_delivery_notices_and_lists() -> None:
    open_day, sealed = documents(), documents(sealed={"c1"})
    before, after = notice(open_day, "c1-b1"), notice(sealed, "c1-b1")
    assert not before.door_delivery and "取货地点" in before.message_zh
    assert after.door_delivery and not after.at_gate and after.walking_m == 0
    assert after.pickup_point == "送货上门 / door delivery"
    assert "取货地点" not in after.message_zh and "Where:" not in after.message_en
    assert "送货时间" in after.message_zh and "志愿者" in after.message_zh
    assert "Volunteer comes" in after.message_en
    # the slot is the building's hand-out time, as before
    assert (after.slot_start, after.slot_end) == (before.slot_start, before.slot_end)
    listed = sorting(sealed, "c1")
    assert listed.door_delivery and all(b.door_delivery for b in listed.buildings)
    assert "封控" in listed.notes_zh[0] and "sealed" in listed.notes_en[0]
    # the other compound is not sealed and keeps its pickup notice
    assert not notice(sealed, "c2-b1").door_delivery
    assert not sorting(sealed, "c2").door_delivery


def test_pinned_point_overrides_the_computed_one_and_says_so() -> None:
    docs = documents(pinned={"c1-b2": ("3号楼南侧空地", 55), "c1-b1": ("3号楼南侧空地", 80)})
    for building_id, metres in (("c1-b1", 80), ("c1-b2", 55)):
        pinned = notice(docs, building_id)
        assert pinned.pinned and not pinned.at_gate
        assert (pinned.pickup_point, pinned.walking_m) == ("3号楼南侧空地", metres)
        assert "3号楼南侧空地" in pinned.message_zh
    listed = {b.building_id: b for b in sorting(docs, "c1").buildings}
    assert listed["c1-b2"].pickup_point == "3号楼南侧空地" and listed["c1-b2"].pickup_pinned
    plain = {b.building_id: b for b in sorting(documents(), "c1").buildings}
    assert plain["c1-b2"].pickup_point == "2号楼架空层" and not plain["c1-b2"].pickup_pinned
    assert not notice(documents(), "c1-b2").pinned
    # a seal wins over a pin: nobody goes out to collect
    both = notice(documents(sealed={"c1"}, pinned={"c1-b1": ("空地", 10)}), "c1-b1")
    assert both.door_delivery and not both.pinned
