"""The room roster of a building (楼户号), derived from its floors and households.

linli stores no list of rooms; a building has ``floors`` and ``households``, and rooms are
numbered the Shanghai way, floor then flat: ``502`` is flat 2 on floor 5, ``1101`` flat 1 on
floor 11, optionally with a letter (``502A``). A room exists when

    1 ≤ floor ≤ floors   and   1 ≤ flat ≤ ceil(households / floors)

(the synthetic generator numbers rooms the same way). ``room_issue`` says what is wrong with
a room and how to fix it, so an import can name the line.
"""

from __future__ import annotations

import re

from data.schemas import Building

_ROOM = re.compile(r"^(\d{1,3})(\d{2})([A-Za-z]?)$")


def flats_per_floor(building: Building) -> int:
    """The most flats one floor of ``building`` has: ceil(households / floors)."""
    return max(1, -(-building.households // max(1, building.floors)))


def room_issue(building: Building, room: str) -> str | None:
    """Why ``room`` is not a room of ``building`` (with how to fix it), or None if it is."""
    match = _ROOM.match(room.strip())
    flats = flats_per_floor(building)
    example = f"e.g. {min(5, building.floors)}0{min(2, flats)}"
    if match is None:
        return (
            f"room {room!r} of {building.name} is not a floor and flat number; write it as "
            f"floor then two-digit flat, {example}"
        )
    floor, flat = int(match.group(1)), int(match.group(2))
    if not 1 <= floor <= building.floors:
        return (
            f"room {room} of {building.name}: floor {floor} does not exist (the building has "
            f"{building.floors} floors); check the room number"
        )
    if not 1 <= flat <= flats:
        return (
            f"room {room} of {building.name}: flat {flat} does not exist (at most {flats} "
            f"flats a floor); check the room number, {example}"
        )
    return None
