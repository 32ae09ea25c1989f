"""Eligibility: which offer may serve which compound on the delivery date, and why not.

Every (offer, compound) pair gets a ``Reason``: ``eligible`` or the first rule it breaks,
checked in this order (compound-independent rules first):

1. ``no_capacity_on_date``: the offer is for another date.
2. ``supply_permit_invalid``: no supply permit (保供企业证明) of the supplier valid over
   the whole delivery window.
3. ``quarantine_report_missing`` / ``food_licence_missing``: the category requires it
   (``Category.required_certificates``) and no report / licence of the supplier with scope
   the category (or empty) covers the whole window.
4. ``no_refrigerated_vehicle``: cold-chain category, no refrigerated vehicle at the offer's
   depots.
5. ``no_valid_driver_test``: no driver of the supplier whose 48-hour test (``test_taken_at``
   + 48 h, or a ``driver_test`` certificate) is still valid at the end of the window.
6. ``outside_service_area``: the compound is neither in the offer's districts nor within
   ``max_distance_m`` of the nearest of the offer's depots (metres on the sphere); an area
   with both is their union.
7. ``lockdown_level_not_served``: the supplier does not serve the compound's level.
8. ``no_vehicle_pass``: the compound is sealed, controlled or precaution and no usable
   vehicle (refrigerated if cold chain) at the offer's depots holds a vehicle pass with scope
   that level (or empty) valid over the whole window.

With a ``CrewRoster`` (crew members and the day's crew assignments), rule 5 is followed by
``no_valid_crew``: every vehicle of the supplier at the offer's depots has a crew assigned
for the date and on each some crew member lacks a 48-hour test or a work ID (``work_id``)
valid at the end of the window. A vehicle without an assignment carries its driver only and
is judged by rule 5 alone, so problems without crews decide exactly as before.

Certificates are always checked against the delivery window, never against "now". The
per-compound rules are vectorised (numpy) so a city of 9,500 compounds × 300 offers is a
few array operations per offer. "Category not offered" is a property of a compound ×
category with no offer from a supplier at all; ``explain`` reports it per supplier.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from data.geo import haversine_matrix_m
from data.schemas import (
    LOCKDOWN_LEVEL_ZH,
    Certificate,
    CertificateType,
    CrewAssignment,
    CrewMember,
    HolderKind,
    LockdownLevel,
    Model,
    Offer,
)
from matcher.model import Problem

PASS_REQUIRED_LEVELS = frozenset(
    {LockdownLevel.sealed, LockdownLevel.controlled, LockdownLevel.precaution}
)
"""Levels whose compounds a truck may only reach with a vehicle pass (通行证)."""


class Reason(enum.StrEnum):
    """Why an offer may or may not serve a compound."""

    eligible = "eligible"
    category_not_offered = "category_not_offered"
    no_capacity_on_date = "no_capacity_on_date"
    supply_permit_invalid = "supply_permit_invalid"
    quarantine_report_missing = "quarantine_report_missing"
    food_licence_missing = "food_licence_missing"
    no_refrigerated_vehicle = "no_refrigerated_vehicle"
    no_valid_driver_test = "no_valid_driver_test"
    outside_service_area = "outside_service_area"
    lockdown_level_not_served = "lockdown_level_not_served"
    no_vehicle_pass = "no_vehicle_pass"
    no_valid_crew = "no_valid_crew"  # appended: earlier codes keep their index


REASONS: tuple[Reason, ...] = tuple(Reason)
"""Reasons in code order: ``Eligibility.reasons`` holds ``REASONS.index(reason)``."""

_CODE = {reason: np.int8(i) for i, reason in enumerate(REASONS)}


class Bilingual(Model):
    """A sentence in Chinese and English, fit to publish to residents."""

    zh: str
    en: str


_TEMPLATES: dict[Reason, tuple[str, str]] = {
    Reason.eligible: (
        "{supplier}可以为{compound}供应{category_zh}。",
        "{supplier} may supply {category_en} to {compound}.",
    ),
    Reason.category_not_offered: (
        "{supplier}在{date}没有{category_zh}的报价。",
        "{supplier} has no offer of {category_en} on {date}.",
    ),
    Reason.no_capacity_on_date: (
        "{supplier}的这个报价是{offer_date}的，{date}没有供应能力。",
        "{supplier}'s offer is for {offer_date}; it has no capacity on {date}.",
    ),
    Reason.supply_permit_invalid: (
        "{supplier}没有在整个配送时段（{window}）内有效的保供企业证明。",
        "{supplier} has no supply permit valid over the whole delivery window ({window}).",
    ),
    Reason.quarantine_report_missing: (
        "{supplier}没有覆盖配送时段（{window}）的{category_zh}检疫报告。",
        "{supplier} has no quarantine report for {category_en} covering the delivery "
        "window ({window}).",
    ),
    Reason.food_licence_missing: (
        "{supplier}没有覆盖配送时段（{window}）的食品经营许可证。",
        "{supplier} has no food licence covering the delivery window ({window}).",
    ),
    Reason.no_refrigerated_vehicle: (
        "{category_zh}需要冷链运输，{supplier}在该仓库没有冷藏车。",
        "{category_en} needs the cold chain and {supplier} has no refrigerated vehicle at "
        "the offer's depots.",
    ),
    Reason.no_valid_driver_test: (
        "{supplier}没有司机的48小时核酸阴性证明在配送结束时（{window_end}）仍然有效。",
        "None of {supplier}'s drivers has a 48-hour negative test still valid at the end "
        "of the delivery window ({window_end}).",
    ),
    Reason.outside_service_area: (
        "{compound}不在{supplier}的配送范围内（{area_zh}）。",
        "{compound} is outside {supplier}'s service area ({area_en}).",
    ),
    Reason.lockdown_level_not_served: (
        "{supplier}不向{level_zh}的小区配送，{compound}目前是{level_zh}。",
        "{supplier} does not deliver to {level_en} compounds, and {compound} is {level_en}.",
    ),
    Reason.no_vehicle_pass: (
        "{supplier}没有可进入{level_zh}的有效车辆通行证。",
        "{supplier} has no vehicle with a valid pass for {level_en} compounds.",
    ),
    Reason.no_valid_crew: (
        "{supplier}的车辆上都有随车人员在配送结束时（{window_end}）没有有效的48小时核酸证明或工作证。",
        "Every one of {supplier}'s vehicles carries a crew member without a 48-hour test "
        "or a work ID valid at the end of the delivery window ({window_end}).",
    ),
}


class CrewRoster(Model):
    """Crew members and who rides on which vehicle on which date (besides the driver)."""

    members: tuple[CrewMember, ...] = ()
    assignments: tuple[CrewAssignment, ...] = ()


@dataclass(frozen=True, eq=False)
class Eligibility:
    """Reason per (offer, compound), with the distance to the offer's nearest depot.

    Attributes
    ----------
    offer_ids, compound_ids
        Row and column labels, in the problem's order.
    reasons
        ``int8`` array (offers × compounds) of indices into ``REASONS``; 0 is eligible.
    distance_m
        ``int64`` array (offers × compounds): metres from the nearest of the offer's depots.
    nearest_depot
        ``int64`` array (offers × compounds): index into ``Offer.depot_ids`` of that depot.
    """

    offer_ids: tuple[str, ...]
    compound_ids: tuple[str, ...]
    reasons: npt.NDArray[np.int8]
    distance_m: npt.NDArray[np.int64]
    nearest_depot: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_offer_row", {o: i for i, o in enumerate(self.offer_ids)})
        object.__setattr__(self, "_compound_col", {c: j for j, c in enumerate(self.compound_ids)})

    def _at(self, offer_id: str, compound_id: str) -> tuple[int, int]:
        rows: dict[str, int] = self.__dict__["_offer_row"]
        cols: dict[str, int] = self.__dict__["_compound_col"]
        return rows[offer_id], cols[compound_id]

    def reason(self, offer_id: str, compound_id: str) -> Reason:
        """The reason code of one pair."""
        i, j = self._at(offer_id, compound_id)
        return REASONS[int(self.reasons[i, j])]

    def eligible(self, offer_id: str, compound_id: str) -> bool:
        """Whether the offer may serve the compound."""
        i, j = self._at(offer_id, compound_id)
        return bool(self.reasons[i, j] == 0)

    def distance(self, offer_id: str, compound_id: str) -> int:
        """Metres from the offer's nearest depot to the compound."""
        i, j = self._at(offer_id, compound_id)
        return int(self.distance_m[i, j])

    def depot(self, offer_id: str, compound_id: str, offers: dict[str, Offer]) -> str:
        """The id of the offer's depot nearest to the compound."""
        i, j = self._at(offer_id, compound_id)
        return offers[offer_id].depot_ids[int(self.nearest_depot[i, j])]


def _covers(
    problem: Problem,
    kind: CertificateType,
    holder_kind: HolderKind,
    holder_ids: set[str],
    scopes: set[str],
) -> bool:
    """Whether any certificate of ``kind`` held by one of ``holder_ids``, with a scope in
    ``scopes``, is valid over the whole delivery window."""
    return any(
        c.holder_id in holder_ids
        and c.scope in scopes
        and c.covers(problem.window_start, problem.window_end)
        for c in _certificates_of(problem, kind, holder_kind)
    )


def _certificates_of(
    problem: Problem, kind: CertificateType, holder_kind: HolderKind
) -> tuple[Certificate, ...]:
    """Certificates of one type and holder kind."""
    return problem.certificates_by_kind.get((kind, holder_kind), ())


def _driver_ok(problem: Problem, supplier_id: str) -> bool:
    end = problem.window_end
    drivers = [d for d in problem.drivers if d.supplier_id == supplier_id]
    for driver in drivers:
        until = driver.test_valid_until
        taken = driver.test_taken_at
        if taken is not None and until is not None and taken <= end <= until:
            return True
    ids = {d.driver_id for d in drivers}
    return any(
        c.holder_id in ids and c.valid_from <= end <= c.valid_until
        for c in _certificates_of(problem, CertificateType.driver_test, HolderKind.driver)
    )


def _crew_member_ok(problem: Problem, member: CrewMember) -> bool:
    """Whether ``member`` holds a 48-hour test and a work ID valid at the window's end."""
    end = problem.window_end
    taken, until = member.test_taken_at, member.test_valid_until
    tested = taken is not None and until is not None and taken <= end <= until
    held = {
        c.type
        for kind in (CertificateType.driver_test, CertificateType.work_id)
        for c in _certificates_of(problem, kind, HolderKind.crew)
        if c.holder_id == member.crew_id and c.valid_from <= end <= c.valid_until
    }
    return (tested or CertificateType.driver_test in held) and CertificateType.work_id in held


def _usable_vehicles(problem: Problem, crew: CrewRoster) -> frozenset[str]:
    """Vehicles without a crew assignment on the date, or whose whole crew is certified."""
    members = {m.crew_id: m for m in crew.members}
    day = problem.delivery_date
    assigned = {a.vehicle_id: a.crew_ids for a in crew.assignments if a.delivery_date == day}
    usable = set()
    for vehicle in problem.vehicles:
        ids = assigned.get(vehicle.vehicle_id)
        if ids is None or all(c in members and _crew_member_ok(problem, members[c]) for c in ids):
            usable.add(vehicle.vehicle_id)
    return frozenset(usable)


def check_eligibility(problem: Problem, crew: CrewRoster | None = None) -> Eligibility:
    """Decide every (offer, compound) pair of ``problem``; see the module docstring.

    ``crew`` adds the ``no_valid_crew`` rule; without it vehicles carry their driver only.
    """
    compounds = problem.compounds
    n_offers, n_compounds = len(problem.offers), len(compounds)
    reasons = np.zeros((n_offers, n_compounds), dtype=np.int8)
    distance = np.zeros((n_offers, n_compounds), dtype=np.int64)
    nearest = np.zeros((n_offers, n_compounds), dtype=np.int64)

    depot_col = {d.depot_id: k for k, d in enumerate(problem.depots)}
    if n_compounds and problem.depots:
        matrix = haversine_matrix_m(
            np.array([c.lon for c in compounds]),
            np.array([c.lat for c in compounds]),
            np.array([d.lon for d in problem.depots]),
            np.array([d.lat for d in problem.depots]),
        )
    else:
        matrix = np.zeros((n_compounds, len(problem.depots)))
    # districts and levels as small integer codes: np.isin on ints is fast
    district_code: dict[str, int] = {}
    districts = np.array(
        [district_code.setdefault(c.district, len(district_code)) for c in compounds],
        dtype=np.int64,
    )
    level_code = {lv: k for k, lv in enumerate(LockdownLevel)}
    level_of = problem.lockdown_levels
    levels = np.array([level_code[level_of[c.compound_id]] for c in compounds], dtype=np.int64)
    needs_pass = np.isin(levels, [level_code[lv] for lv in PASS_REQUIRED_LEVELS])

    driver_ok = {s.supplier_id: _driver_ok(problem, s.supplier_id) for s in problem.suppliers}
    usable = None if crew is None else _usable_vehicles(problem, crew)

    for i, offer in enumerate(problem.offers):
        category = problem.category_by_id[offer.category_id]
        supplier = problem.supplier_by_id[offer.supplier_id]
        cols = [depot_col[d] for d in offer.depot_ids]
        if n_compounds:
            sub = matrix[:, cols]
            arg = np.argmin(sub, axis=1)
            nearest[i] = arg
            distance[i] = np.rint(sub[np.arange(n_compounds), arg]).astype(np.int64)

        row = reasons[i]
        offer_reason = _offer_reason(problem, offer, driver_ok)
        if (
            offer_reason is Reason.eligible
            and usable is not None
            and not any(
                v.vehicle_id in usable
                for v in problem.vehicles
                if v.supplier_id == offer.supplier_id and v.depot_id in offer.depot_ids
            )
        ):
            offer_reason = Reason.no_valid_crew
        if offer_reason is not Reason.eligible:
            row[:] = _CODE[offer_reason]
            continue

        area = offer.service_area
        inside = np.zeros(n_compounds, dtype=bool)
        if area.districts:
            codes = [district_code[d] for d in area.districts if d in district_code]
            inside |= np.isin(districts, codes)
        if area.max_distance_m is not None:
            inside |= distance[i] <= area.max_distance_m
        row[~inside] = _CODE[Reason.outside_service_area]

        served = np.isin(levels, [level_code[lv] for lv in supplier.lockdown_levels_served])
        row[(row == 0) & ~served] = _CODE[Reason.lockdown_level_not_served]

        vehicles = {
            v.vehicle_id
            for v in problem.vehicles
            if v.supplier_id == offer.supplier_id
            and v.depot_id in offer.depot_ids
            and (v.refrigerated or not category.cold_chain)
        }
        passed = [
            level_code[lv]
            for lv in PASS_REQUIRED_LEVELS
            if _covers(
                problem, CertificateType.vehicle_pass, HolderKind.vehicle, vehicles, {"", lv.value}
            )
        ]
        row[(row == 0) & needs_pass & ~np.isin(levels, passed)] = _CODE[Reason.no_vehicle_pass]
    return Eligibility(
        offer_ids=tuple(o.offer_id for o in problem.offers),
        compound_ids=tuple(c.compound_id for c in compounds),
        reasons=reasons,
        distance_m=distance,
        nearest_depot=nearest,
    )


def _offer_reason(problem: Problem, offer: Offer, driver_ok: dict[str, bool]) -> Reason:
    """The first compound-independent rule ``offer`` breaks, or ``eligible``."""
    category = problem.category_by_id[offer.category_id]
    supplier_ids = {offer.supplier_id}
    scopes = {"", offer.category_id}
    if offer.delivery_date != problem.delivery_date:
        return Reason.no_capacity_on_date
    if not _covers(
        problem, CertificateType.supply_permit, HolderKind.supplier, supplier_ids, scopes
    ):
        return Reason.supply_permit_invalid
    for kind, reason in (
        (CertificateType.quarantine_report, Reason.quarantine_report_missing),
        (CertificateType.food_licence, Reason.food_licence_missing),
    ):
        if kind in category.required_certificates and not _covers(
            problem, kind, HolderKind.supplier, supplier_ids, scopes
        ):
            return reason
    if category.cold_chain and not any(
        v.refrigerated and v.supplier_id == offer.supplier_id and v.depot_id in offer.depot_ids
        for v in problem.vehicles
    ):
        return Reason.no_refrigerated_vehicle
    if not driver_ok[offer.supplier_id]:
        return Reason.no_valid_driver_test
    return Reason.eligible


def _fmt_time(value: dt.datetime) -> str:
    return value.strftime("%m-%d %H:%M")


def describe(
    problem: Problem,
    eligibility: Eligibility,
    reason: Reason,
    *,
    supplier_id: str,
    compound_id: str,
    category_id: str,
    offer_id: str | None = None,
) -> Bilingual:
    """The published sentence for one decision, in Chinese and English."""
    supplier = problem.supplier_by_id[supplier_id]
    compound = problem.compounds[problem.compound_index[compound_id]]
    category = problem.category_by_id[category_id]
    level = problem.lockdown_levels[compound_id]
    offer = problem.offer_by_id[offer_id] if offer_id is not None else None
    area_zh = area_en = ""
    if offer is not None:
        area = offer.service_area
        zh_parts, en_parts = [], []
        if area.districts:
            zh_parts.append("、".join(area.districts))
            en_parts.append(", ".join(area.districts))
        if area.max_distance_m is not None:
            km = area.max_distance_m / 1000
            zh_parts.append(f"仓库{km:g}公里以内")
            en_parts.append(f"within {km:g} km of its depots")
        if offer_id is not None and reason is Reason.outside_service_area:
            km_away = eligibility.distance(offer_id, compound_id) / 1000
            zh_parts.append(f"本小区距最近仓库{km_away:.1f}公里")
            en_parts.append(f"this compound is {km_away:.1f} km from the nearest depot")
        area_zh, area_en = "；".join(zh_parts), "; ".join(en_parts)
    context = {
        "supplier": supplier.name,
        "compound": compound.name,
        "category_zh": category.name_zh,
        "category_en": category.name_en,
        "date": problem.delivery_date.isoformat(),
        "offer_date": offer.delivery_date.isoformat() if offer is not None else "",
        "window": f"{_fmt_time(problem.window_start)}–{_fmt_time(problem.window_end)}",
        "window_end": _fmt_time(problem.window_end),
        "area_zh": area_zh,
        "area_en": area_en,
        "level_zh": LOCKDOWN_LEVEL_ZH[level],
        "level_en": level.value,
    }
    zh, en = _TEMPLATES[reason]
    return Bilingual(zh=zh.format(**context), en=en.format(**context))
