"""A map of a day's plan as a PNG: every vehicle's route in its own colour over the city and
district outlines and, where the extract covers them, the OSM roads.

No tile server can be reached, so the map is drawn with matplotlib from vector layers: the
outline shipped in the package and the optional layers of ``api.web.geo`` (district and
street boundaries, OSM roads), cut to the routes' extent. Longitude is scaled by the cosine
of the latitude so that distances look the same both ways.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt
from matplotlib.collections import LineCollection
from matplotlib.font_manager import FontProperties

from api.render.fonts import CjkFont, default_cjk_font
from api.web.geo import LayerKind, available_layers, layer_bytes
from routing.sheets import RouteSheet

MARGIN = 0.08
"""Space around the routes' extent, as a share of its larger side."""
MIN_SPAN_DEG = 0.01
"""The smallest extent drawn (about 1 km), so a one-stop route is not a dot."""
ROUTE_COLOURS = tuple(plt.get_cmap("tab20")(n / 19) for n in range(20))
"""One colour per vehicle, repeating after twenty."""


@dataclass(frozen=True)
class Extent:
    """A box in degrees: west, south, east, north."""

    west: float
    south: float
    east: float
    north: float

    def contains(self, lon: float, lat: float) -> bool:
        """Whether the point lies in the box."""
        return self.west <= lon <= self.east and self.south <= lat <= self.north


def route_points(sheet: RouteSheet) -> list[tuple[float, float]]:
    """(lon, lat) in driving order: depot, the stops (back at the depot between trips), depot."""
    points = [(sheet.depot_lon, sheet.depot_lat)]
    trip = sheet.stops[0].trip
    for stop in sheet.stops:
        if stop.trip != trip:
            points.append((sheet.depot_lon, sheet.depot_lat))
            trip = stop.trip
        points.append((stop.gate_lon, stop.gate_lat))
    points.append((sheet.depot_lon, sheet.depot_lat))
    return points


def extent_of(sheets: Sequence[RouteSheet]) -> Extent:
    """The box around every depot and stop, with a margin."""
    points = [p for sheet in sheets for p in route_points(sheet)]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    span = max(max(lons) - min(lons), max(lats) - min(lats), MIN_SPAN_DEG)
    pad = span * MARGIN
    mid_lon, mid_lat = (max(lons) + min(lons)) / 2, (max(lats) + min(lats)) / 2
    half_lon = max(max(lons) - min(lons), MIN_SPAN_DEG) / 2 + pad
    half_lat = max(max(lats) - min(lats), MIN_SPAN_DEG) / 2 + pad
    return Extent(mid_lon - half_lon, mid_lat - half_lat, mid_lon + half_lon, mid_lat + half_lat)


def _lines(geometry: dict[str, Any]) -> Iterator[list[tuple[float, float]]]:
    """The rings and lines of a GeoJSON geometry as point lists."""
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "LineString":
        yield [(x, y) for x, y, *_ in coords]
    elif kind in ("MultiLineString", "Polygon"):
        for line in coords:
            yield [(x, y) for x, y, *_ in line]
    elif kind == "MultiPolygon":
        for polygon in coords:
            for ring in polygon:
                yield [(x, y) for x, y, *_ in ring]
    elif kind == "GeometryCollection":
        for part in geometry.get("geometries", []):
            yield from _lines(part)


def layer_lines(content: bytes, extent: Extent) -> list[list[tuple[float, float]]]:
    """The lines of a GeoJSON layer that touch ``extent`` (the rest is not drawn)."""
    data = json.loads(content)
    features = data.get("features", []) if data.get("type") == "FeatureCollection" else [data]
    found = []
    for feature in features:
        geometry = feature.get("geometry") if feature.get("type") == "Feature" else feature
        for line in _lines(geometry or {}):
            if any(extent.contains(x, y) for x, y in line):
                found.append(line)
    return found


def plan_map_png(
    sheets: Sequence[RouteSheet],
    *,
    title: str = "",
    width_px: int = 1800,
    dpi: int = 200,
    font: CjkFont | None = None,
) -> bytes:
    """The plan's routes as a PNG, one colour per vehicle, over the available map layers;
    plates and the title are set in the CJK font (a plate starts with 沪)."""
    if not sheets:
        raise ValueError("a plan map needs at least one route sheet")
    cjk = font or default_cjk_font()
    text = FontProperties(fname=str(cjk.regular.path), size=5)
    extent = extent_of(sheets)
    mid_lat = (extent.south + extent.north) / 2
    aspect = 1 / math.cos(math.radians(mid_lat))
    ratio = (extent.north - extent.south) * aspect / (extent.east - extent.west)
    inches = width_px / dpi
    figure, axes = plt.subplots(figsize=(inches, max(3.0, min(inches * ratio, inches * 1.4))))
    try:
        attributions = []
        for layer in available_layers():
            content = layer_bytes(layer.layer_id)
            lines = layer_lines(content, extent) if content else []
            if not lines:
                continue
            road = layer.kind is LayerKind.road
            axes.add_collection(
                LineCollection(
                    lines,
                    colors="#b0b0b0" if road else "#404040",
                    linewidths=0.4 if road else 0.9,
                    linestyles="solid" if road or layer.layer_id == "outline" else "dashed",
                    zorder=1 if road else 2,
                )
            )
            attributions.append(layer.attribution)
        for n, sheet in enumerate(sorted(sheets, key=lambda s: s.vehicle_id)):
            colour = ROUTE_COLOURS[n % len(ROUTE_COLOURS)]
            xs, ys = zip(*route_points(sheet), strict=True)
            axes.plot(xs, ys, "-", color=colour, linewidth=1.6, zorder=3, label=sheet.plate)
            axes.plot(xs[1:-1], ys[1:-1], "o", color=colour, markersize=3.5, zorder=4)
            axes.plot(xs[0], ys[0], "s", color="black", markersize=6, zorder=5)
        axes.set_xlim(extent.west, extent.east)
        axes.set_ylim(extent.south, extent.north)
        axes.set_aspect(aspect)
        axes.set_xticks([])
        axes.set_yticks([])
        if title:
            axes.set_title(
                title, fontproperties=FontProperties(fname=str(cjk.regular.path), size=9)
            )
        axes.legend(loc="upper left", prop=text, ncols=2, framealpha=0.85)
        credits = " · ".join(dict.fromkeys(attributions))
        figure.text(0.01, 0.005, f"■ 仓库 depot · {credits}", fontproperties=text, color="#333")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        return buffer.getvalue()
    finally:
        plt.close(figure)
