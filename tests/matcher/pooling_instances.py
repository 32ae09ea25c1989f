"""Tiny named instances for pooling and what-if, built on ``tests.matcher.instances.World``.

Compounds ``c{k}`` sit ``k`` km east of the base point (``place`` moves one by metres), so
distances between them are known: c1–c2 1 km, c1–c3 2 km.
"""

from __future__ import annotations

from matcher.model import Problem
from tests.matcher.instances import BASE_LON, KM_LON, World


def place(world: World, compound_id: str, east_m: float) -> None:
    """Move a compound to ``east_m`` metres east of the base point."""
    world.compounds = [
        c.model_copy(update={"lon": BASE_LON + east_m / 1000 * KM_LON})
        if c.compound_id == compound_id
        else c
        for c in world.compounds
    ]


def two_small_neighbours(*, gap_km: int = 1, capacity: int = 100) -> World:
    """c1 wants 6 veg (2 priority), c{1+gap} 6 veg (1 priority); the only offer o1 of s1
    has a minimum order of 10: neither compound reaches it alone, both do together."""
    world = World()
    world.add_compound(1, {"veg": (6, 2)})
    world.add_compound(1 + gap_km, {"veg": (6, 1)})
    world.add_supplier("s1")
    world.add_offer("o1", "s1", "veg", capacity, min_order=10)
    return world


def three_in_a_row() -> World:
    """c1 (7 veg) and c2 (6 veg) 1 km apart, c3 (3 veg) half-way between; o1 min 10.
    c1 and its nearest neighbour c3 reach the minimum; c2, left over, can join them."""
    world = World()
    world.add_compound(1, {"veg": (7, 0)})
    world.add_compound(2, {"veg": (6, 0)})
    world.add_compound(3, {"veg": (3, 0)})
    place(world, "c3", 1500)
    world.add_supplier("s1")
    world.add_offer("o1", "s1", "veg", 100, min_order=10)
    return world


def sizes_day() -> World:
    """Two compounds in one district want 30 veg and 30 pork each. Suppliers by capacity:
    ``small`` (veg 40, cheapest veg), ``mid`` (pork 60, dearer) and ``large`` (veg and pork,
    200 each). Every rule change shows in who delivers what."""
    world = World()
    world.add_compound(1, {"veg": (30, 5), "pork": (30, 5)})
    world.add_compound(2, {"veg": (30, 0), "pork": (30, 0)})
    for sid in ("small", "mid", "large"):
        world.add_supplier(sid)
    world.add_offer("small-veg", "small", "veg", 40, price=900)
    world.add_offer("mid-pork", "mid", "pork", 60, price=1200)
    world.add_offer("large-veg", "large", "veg", 200, price=1000)
    world.add_offer("large-pork", "large", "pork", 200, price=1100)
    return world


def tiny_day() -> Problem:
    """``sizes_day`` plus two small neighbours c5, c6 (6 veg each) below ``large-veg``'s
    minimum order of 10 once it is raised: the what-if CLI fixture
    (``tests/instances/whatif/tiny_day.json``)."""
    world = sizes_day()
    world.add_compound(5, {"veg": (6, 1)})
    world.add_compound(6, {"veg": (6, 0)})
    world.offers = [
        o.model_copy(update={"min_order_units": 10}) if o.supplier_id != "mid" else o
        for o in world.offers
    ]
    return world.problem()
