"""A sketch map of one route for its sheet: depot and numbered stops joined in driving order.

No tiles can be fetched, so the map is drawn from the sheet's own coordinates: positions are
projected to local metres (equirectangular about the points' centre, exact enough across a
district), scaled to fit the box with north up, and a scale bar in metres is added. Under the
route, in grey, the city outline and, where the map data has them, the district and street
boundaries and the OSM roads (``api.web.geo``), so a driver can place the stops.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from api.render.base import FAMILY
from api.render.plan_map import Extent, layer_lines
from api.web.geo import LayerKind, available_layers, layer_bytes, map_data_folder
from data.geo import EARTH_RADIUS_M
from routing.sheets import RouteSheet

SCALE_STEPS_M = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)


@dataclass(frozen=True)
class MapPoint:
    """A place on the map, in page millimetres, with its label (stop numbers or 仓)."""

    x: float
    y: float
    label: str
    name: str
    depot: bool


@dataclass(frozen=True)
class MapSegment:
    """One leg of the route on the page, and the 0-based trip it belongs to."""

    x1: float
    y1: float
    x2: float
    y2: float
    trip: int


@dataclass(frozen=True)
class MapLayout:
    """Everything the map draws, in page millimetres; ``metres_per_mm`` gives its scale."""

    points: tuple[MapPoint, ...]
    segments: tuple[MapSegment, ...]
    metres_per_mm: float
    scale_bar_m: int
    origin: tuple[float, float] = (0.0, 0.0)
    """(lon, lat) the metres are measured from."""
    centre: tuple[float, float] = (0.0, 0.0)
    """Page (x, y) of the box's centre and the metres (east, north) drawn there."""
    centre_m: tuple[float, float] = (0.0, 0.0)

    def to_page(self, lon: float, lat: float) -> tuple[float, float]:
        """Page position (mm) of a point, in the map's projection."""
        east, north = _metres(lon, lat, *self.origin)
        return (
            self.centre[0] + (east - self.centre_m[0]) / self.metres_per_mm,
            self.centre[1] - (north - self.centre_m[1]) / self.metres_per_mm,
        )


def _metres(lon: float, lat: float, lon0: float, lat0: float) -> tuple[float, float]:
    """East and north offsets in metres of (lon, lat) from (lon0, lat0)."""
    east = EARTH_RADIUS_M * math.radians(lon - lon0) * math.cos(math.radians(lat0))
    north = EARTH_RADIUS_M * math.radians(lat - lat0)
    return east, north


def layout_route_map(
    sheet: RouteSheet, x: float, y: float, w: float, h: float, pad: float = 10
) -> MapLayout:
    """Positions of the depot, stops and legs of ``sheet`` in the box (x, y, w, h), mm.

    Stops at the same gate share one point labelled with all their numbers ("1, 3").
    """
    places = [(sheet.depot_lon, sheet.depot_lat), *((s.gate_lon, s.gate_lat) for s in sheet.stops)]
    lon0 = sum(p[0] for p in places) / len(places)
    lat0 = sum(p[1] for p in places) / len(places)
    metres = [_metres(lon, lat, lon0, lat0) for lon, lat in places]
    east = [m[0] for m in metres]
    north = [m[1] for m in metres]
    span_e, span_n = max(east) - min(east), max(north) - min(north)
    inner_w, inner_h = w - 2 * pad, h - 2 * pad
    fits = [inner_w / span_e] if span_e > 0 else []
    fits += [inner_h / span_n] if span_n > 0 else []
    mm_per_metre = min(fits) if fits else inner_w / 1000  # one place only: 1 km across
    centre_e, centre_n = (max(east) + min(east)) / 2, (max(north) + min(north)) / 2

    def page(i: int) -> tuple[float, float]:
        return (
            x + w / 2 + (east[i] - centre_e) * mm_per_metre,
            y + h / 2 - (north[i] - centre_n) * mm_per_metre,
        )

    depot = page(0)
    points = [MapPoint(*depot, label="仓", name=sheet.depot_name, depot=True)]
    numbers: dict[str, list[int]] = {}
    first_of: dict[str, int] = {}
    for i, stop in enumerate(sheet.stops, start=1):
        numbers.setdefault(stop.gate_id, []).append(stop.sequence)
        first_of.setdefault(stop.gate_id, i)
    for gate_id, i in first_of.items():
        stop = sheet.stops[i - 1]
        points.append(
            MapPoint(
                *page(i),
                label=", ".join(str(n) for n in numbers[gate_id]),
                name=f"{stop.compound_name} {stop.gate_name}",
                depot=False,
            )
        )
    segments = []
    here, trip = depot, sheet.stops[0].trip
    for i, stop in enumerate(sheet.stops, start=1):
        if i > 1 and stop.leg_from == "depot":
            segments.append(MapSegment(*here, *depot, trip=trip))
            here = depot
        there = page(i)
        segments.append(MapSegment(*here, *there, trip=stop.trip))
        here, trip = there, stop.trip
    segments.append(MapSegment(*here, *depot, trip=trip))
    metres_per_mm = 1 / mm_per_metre
    longest = w / 4 * metres_per_mm
    bar = max((s for s in SCALE_STEPS_M if s <= longest), default=SCALE_STEPS_M[0])
    return MapLayout(
        tuple(points),
        tuple(segments),
        metres_per_mm,
        bar,
        origin=(lon0, lat0),
        centre=(x + w / 2, y + h / 2),
        centre_m=(centre_e, centre_n),
    )


Line = tuple[tuple[float, float], ...]


@functools.cache
def _layer(layer_id: str, folder: Path | None) -> tuple[tuple[Extent, Line], ...]:
    """The lines of a map layer in (lon, lat) with their extents, read once per process and
    map data folder (the extent lets a sheet skip the thousands of lines far from its route)."""
    content = layer_bytes(layer_id)
    if not content:
        return ()
    everywhere = Extent(-180.0, -90.0, 180.0, 90.0)
    lines = []
    for line in layer_lines(content, everywhere):
        lons, lats = [p[0] for p in line], [p[1] for p in line]
        lines.append((Extent(min(lons), min(lats), max(lons), max(lats)), tuple(line)))
    return tuple(lines)


def _box_extent(layout: MapLayout, x: float, y: float, w: float, h: float) -> Extent:
    """The (lon, lat) rectangle the page box shows (the projection is linear in each)."""
    lon0, lat0 = layout.origin
    metres_per_lon = EARTH_RADIUS_M * math.radians(1.0) * math.cos(math.radians(lat0))
    metres_per_lat = EARTH_RADIUS_M * math.radians(1.0)

    def lon_lat(px: float, py: float) -> tuple[float, float]:
        east = (px - layout.centre[0]) * layout.metres_per_mm + layout.centre_m[0]
        north = -(py - layout.centre[1]) * layout.metres_per_mm + layout.centre_m[1]
        return lon0 + east / metres_per_lon, lat0 + north / metres_per_lat

    west, north = lon_lat(x, y)
    east, south = lon_lat(x + w, y + h)
    return Extent(west, south, east, north)


def background_lines(
    layout: MapLayout, x: float, y: float, w: float, h: float
) -> list[tuple[LayerKind, list[tuple[float, float]]]]:
    """The lines of the available map layers (outline, districts, streets, roads) that cross
    the box, in page millimetres: the street and district lines let a driver place the route."""
    found = []
    box = _box_extent(layout, x, y, w, h)
    for layer in available_layers():
        for extent, line in _layer(layer.layer_id, map_data_folder()):
            if (
                extent.east < box.west
                or extent.west > box.east
                or extent.north < box.south
                or extent.south > box.north
            ):
                continue
            page = [layout.to_page(lon, lat) for lon, lat in line]
            if any(x <= px <= x + w and y <= py <= y + h for px, py in page):
                found.append((layer.kind, page))
    return found


def _arrow(pdf: FPDF, segment: MapSegment) -> None:
    """A small filled arrowhead at the middle of ``segment``, pointing along it."""
    dx, dy = segment.x2 - segment.x1, segment.y2 - segment.y1
    length = math.hypot(dx, dy)
    if length < 8:
        return
    ux, uy = dx / length, dy / length
    mx, my = segment.x1 + dx / 2, segment.y1 + dy / 2
    size = 1.8
    pdf.polygon(
        [
            (mx + ux * size, my + uy * size),
            (mx - ux * size - uy * size * 0.7, my - uy * size + ux * size * 0.7),
            (mx - ux * size + uy * size * 0.7, my - uy * size - ux * size * 0.7),
        ],
        style="F",
    )


def _keep_left(segment: MapSegment) -> MapSegment:
    """``segment`` moved sideways to its left, further for later trips, so legs out and back
    along the same line, or repeated on another trip, print as parallel lines, not one."""
    offset_mm = 0.9 + 1.6 * (segment.trip % 3)
    dx, dy = segment.x2 - segment.x1, segment.y2 - segment.y1
    length = math.hypot(dx, dy)
    if length == 0:
        return segment
    # page y grows downwards: the left of a heading (dx, dy) is (dy, -dx)
    ox, oy = dy / length * offset_mm, -dx / length * offset_mm
    return MapSegment(
        segment.x1 + ox, segment.y1 + oy, segment.x2 + ox, segment.y2 + oy, segment.trip
    )


def draw_route_map(pdf: FPDF, sheet: RouteSheet, x: float, y: float, w: float, h: float) -> None:
    """Draw the route of ``sheet`` in the box (x, y, w, h): frame, legs, points, north, scale."""
    layout = layout_route_map(sheet, x, y, w, h)
    with pdf.rect_clip(x, y, w, h):
        for kind, line in background_lines(layout, x, y, w, h):
            road = kind is LayerKind.road
            pdf.set_draw_color(190 if road else 140)
            pdf.set_line_width(0.2 if road else 0.35)
            pdf.polyline(line)
    pdf.set_draw_color(0)
    pdf.set_fill_color(0)
    pdf.set_line_width(0.3)
    pdf.rect(x, y, w, h)
    for segment in layout.segments:
        shifted = _keep_left(segment)
        pdf.set_line_width(0.6)
        if segment.trip % 2:
            pdf.set_dash_pattern(dash=2.5, gap=1.5)
        pdf.line(shifted.x1, shifted.y1, shifted.x2, shifted.y2)
        pdf.set_dash_pattern()
        _arrow(pdf, shifted)
    pdf.set_line_width(0.4)
    for point in layout.points:
        if point.depot:
            pdf.set_fill_color(0)
            pdf.rect(point.x - 3, point.y - 3, 6, 6, style="F")
            pdf.set_text_color(255)
            pdf.set_font(FAMILY, "B", 8)
            pdf.set_xy(point.x - 3, point.y - 3)
            pdf.cell(6, 6, point.label, align="C")
            pdf.set_text_color(0)
            radius = 3.0
        else:
            radius = 2.6 + 0.9 * max(0, len(point.label) - 1)
            pdf.set_fill_color(255)
            pdf.circle(point.x, point.y, radius, style="DF")
            pdf.set_font(FAMILY, "B", 8)
            pdf.set_xy(point.x - radius, point.y - radius)
            pdf.cell(2 * radius, 2 * radius, point.label, align="C")
        pdf.set_font(FAMILY, "", 7)
        pdf.set_fill_color(255)
        name_w = pdf.get_string_width(point.name) + 1
        left = point.x + radius + 0.8 + name_w > x + w - 1
        pdf.set_xy(point.x - radius - 0.8 - name_w if left else point.x + radius + 0.8, point.y - 2)
        pdf.cell(name_w, 4, point.name, fill=True, align="C")
    # north arrow, top right
    nx, ny = x + w - 8, y + 4
    pdf.set_fill_color(0)
    pdf.polygon([(nx, ny), (nx - 2, ny + 5), (nx + 2, ny + 5)], style="F")
    pdf.set_font(FAMILY, "B", 8)
    pdf.set_xy(nx - 4, ny + 5.5)
    pdf.cell(8, 4, "北 N", align="C")
    # scale bar, bottom left
    bar_mm = layout.scale_bar_m / layout.metres_per_mm
    bx, by = x + 5, y + h - 5
    pdf.set_line_width(0.8)
    pdf.line(bx, by, bx + bar_mm, by)
    pdf.set_line_width(0.3)
    pdf.line(bx, by - 1.2, bx, by + 1.2)
    pdf.line(bx + bar_mm, by - 1.2, bx + bar_mm, by + 1.2)
    label = (
        f"{layout.scale_bar_m} 米"
        if layout.scale_bar_m < 1000
        else f"{layout.scale_bar_m // 1000} 公里"
    )
    pdf.set_font(FAMILY, "", 7)
    pdf.set_xy(bx, by - 5)
    pdf.cell(text=label)
    pdf.set_font(FAMILY, "", 7)
    pdf.set_xy(x + 2, y + 1.5)
    pdf.cell(
        text="示意图：直线连接各站，按顺序行驶；虚线为第 2、4… 趟；灰线为区、街道界和道路  "
        "sketch; grey: district and street lines, roads"
    )
