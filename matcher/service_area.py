"""Which compounds a supplier's offers may serve: in a listed district or within reach of a depot.

The same rule as eligibility's ``outside_service_area``, for one supplier at a time (demand
queries of its dispatcher), without building the whole matching problem.
"""

from __future__ import annotations

from collections.abc import Iterable

from data.geo import haversine_m
from data.schemas import Compound, Depot, Offer


def in_service_area(compound: Compound, offer: Offer, depots: dict[str, Depot]) -> bool:
    """Whether ``offer`` covers ``compound``: by district, or by distance from one of its depots."""
    area = offer.service_area
    if compound.district in area.districts:
        return True
    if area.max_distance_m is None:
        return False
    return any(
        haversine_m(d.lon, d.lat, compound.lon, compound.lat) <= area.max_distance_m
        for depot_id in offer.depot_ids
        if (d := depots.get(depot_id)) is not None
    )


def served_compounds(
    compounds: Iterable[Compound], offers: Iterable[Offer], depots: Iterable[Depot]
) -> set[str]:
    """Ids of the compounds any of ``offers`` covers."""
    by_id = {d.depot_id: d for d in depots}
    chosen = list(offers)
    return {c.compound_id for c in compounds if any(in_service_area(c, o, by_id) for o in chosen)}
