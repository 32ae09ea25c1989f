"""Everyone on a vehicle, and whether each holds a valid 48-hour test and work ID at each stop.

A vehicle with a crew assignment for the day carries its driver and the assigned crew; each
of them needs a negative test (``driver_test`` certificate, or the 48 hours after
``test_taken_at``) and a work ID (``work_id`` certificate) valid at every arrival. A stop
reached after someone's test or work ID expired is infeasible, and the reason names the
person and the expiry time. A vehicle without a crew assignment is checked as before: the
driver's test must outlast the route (``routing.check``), and no work ID is asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import Field

from data.schemas import (
    SHANGHAI,
    AwareDatetime,
    Certificate,
    CertificateType,
    CrewMember,
    Driver,
    HolderKind,
    Identifier,
    Model,
)
from routing.result import Plan

CREW_CERTIFICATES: tuple[CertificateType, ...] = (
    CertificateType.driver_test,
    CertificateType.work_id,
)
"""What each person on a crewed vehicle must hold at every arrival."""

_NAMES = {
    CertificateType.driver_test: ("48小时核酸证明", "48-hour test"),
    CertificateType.work_id: ("工作证", "work ID"),
}


class Validity(Model):
    """One interval over which a person's certificate of one kind is valid."""

    kind: CertificateType
    valid_from: AwareDatetime
    valid_until: AwareDatetime


class OnBoard(Model):
    """A person on a vehicle (its driver or a crew member) and their certificates' validity."""

    person_id: Identifier
    name: str
    role: Literal["driver", "crew"]
    validity: tuple[Validity, ...] = ()

    def valid_at(self, kind: CertificateType, moment: dt.datetime) -> bool:
        """Whether a certificate of ``kind`` is valid at ``moment``."""
        return any(
            v.kind is kind and v.valid_from <= moment <= v.valid_until for v in self.validity
        )

    def expired_at(self, kind: CertificateType, moment: dt.datetime) -> dt.datetime | None:
        """The latest expiry of a ``kind`` certificate before ``moment``, if any."""
        ends = [v.valid_until for v in self.validity if v.kind is kind and v.valid_until < moment]
        return max(ends, default=None)


class CrewViolation(Model):
    """A stop reached when someone on the vehicle lacks a valid test or work ID."""

    vehicle_id: Identifier
    stop_index: int = Field(ge=0, description="index of the stop in its route")
    delivery_id: str
    compound_id: Identifier
    arrival: AwareDatetime
    person_id: Identifier
    person_name: str
    role: Literal["driver", "crew"]
    certificate: CertificateType
    expired_at: AwareDatetime | None = Field(description="None: none was ever valid before")
    reason: str


def _validity(
    holder: HolderKind, holder_id: str, certificates: Sequence[Certificate]
) -> list[Validity]:
    return [
        Validity(kind=c.type, valid_from=c.valid_from, valid_until=c.valid_until)
        for c in certificates
        if c.holder_kind is holder and c.holder_id == holder_id and c.type in CREW_CERTIFICATES
    ]


def on_board(
    driver: Driver | None,
    crew: Sequence[CrewMember],
    certificates: Sequence[Certificate],
) -> tuple[OnBoard, ...]:
    """The people on one vehicle: its driver (if any) then the crew in the given order."""
    people: list[OnBoard] = []
    for person, role, holder in (
        *(((driver, "driver", HolderKind.driver),) if driver is not None else ()),
        *((member, "crew", HolderKind.crew) for member in crew),
    ):
        person_id = person.driver_id if isinstance(person, Driver) else person.crew_id
        validity = _validity(holder, person_id, certificates)
        if person.test_taken_at is not None and person.test_valid_until is not None:
            validity.append(
                Validity(
                    kind=CertificateType.driver_test,
                    valid_from=person.test_taken_at,
                    valid_until=person.test_valid_until,
                )
            )
        people.append(
            OnBoard(
                person_id=person_id,
                name=person.name,
                role="driver" if role == "driver" else "crew",
                validity=tuple(validity),
            )
        )
    return tuple(people)


def _reason(
    vehicle_id: str,
    delivery_id: str,
    arrival: dt.datetime,
    person: OnBoard,
    kind: CertificateType,
    expired: dt.datetime | None,
) -> str:
    zh, en = _NAMES.get(kind, (kind.value, kind.value))
    who = f"{person.role} {person.name} ({person.person_id})"
    at = arrival.astimezone(SHANGHAI)
    if expired is None:
        return (
            f"{delivery_id}: {vehicle_id} arrives {at:%H:%M} but {who} has no {en} ({zh}) "
            "valid then; give them one or change the crew"
        )
    return (
        f"{delivery_id}: {vehicle_id} arrives {at:%H:%M}, after {who}'s {en} ({zh}) expired "
        f"at {expired.astimezone(SHANGHAI):%Y-%m-%d %H:%M}; renew it or change the crew"
    )


def check_crew(plan: Plan, crews: Mapping[str, Sequence[OnBoard]]) -> tuple[CrewViolation, ...]:
    """Every stop of a crewed vehicle (``crews`` by vehicle_id) reached while someone on board
    lacks a valid test or work ID; one violation per stop, person and certificate."""
    found: list[CrewViolation] = []
    for route in sorted(plan.routes, key=lambda r: r.vehicle_id):
        people = crews.get(route.vehicle_id)
        if not people:
            continue
        for index, stop in enumerate(route.stops):
            for person in people:
                for kind in CREW_CERTIFICATES:
                    if person.valid_at(kind, stop.arrival):
                        continue
                    expired = person.expired_at(kind, stop.arrival)
                    found.append(
                        CrewViolation(
                            vehicle_id=route.vehicle_id,
                            stop_index=index,
                            delivery_id=stop.delivery_id,
                            compound_id=stop.compound_id,
                            arrival=stop.arrival,
                            person_id=person.person_id,
                            person_name=person.name,
                            role=person.role,
                            certificate=kind,
                            expired_at=expired,
                            reason=_reason(
                                route.vehicle_id,
                                stop.delivery_id,
                                stop.arrival,
                                person,
                                kind,
                                expired,
                            ),
                        )
                    )
    return tuple(found)
