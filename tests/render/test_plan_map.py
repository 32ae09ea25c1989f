"""The plan map PNG and the dispatcher's overview: routes in driving order with depot
returns between trips, layers cut to the routes' extent, a page with every vehicle."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from api.render.plan_map import Extent, extent_of, layer_lines, plan_map_png, route_points
from api.render.plan_overview import plan_overview_pdf, vehicle_rows
from tests.render.conftest import need_cjk_font, page_count, pdf_text
from tests.routing.test_sheets import documents


def test_route_points_return_to_the_depot_between_trips() -> None:
    sheet = documents().route_sheets[0]
    points = route_points(sheet)
    depot = (sheet.depot_lon, sheet.depot_lat)
    assert points[0] == depot and points[-1] == depot
    trips = len({stop.trip for stop in sheet.stops})
    assert points.count(depot) == trips + 1
    assert len(points) == len(sheet.stops) + trips + 1
    extent = extent_of([sheet])
    assert all(extent.contains(lon, lat) for lon, lat in points)


def test_layers_are_cut_to_the_extent() -> None:
    extent = Extent(121.0, 31.0, 121.1, 31.1)
    layer = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "LineString",
             "coordinates": [[121.05, 31.05], [121.2, 31.2]]}},
            {"type": "Feature", "geometry": {"type": "LineString",
             "coordinates": [[122.0, 32.0], [122.1, 32.1]]}},
            {"type": "Feature", "geometry": {"type": "MultiPolygon",
             "coordinates": [[[[121.01, 31.01], [121.02, 31.01], [121.01, 31.02]]]]}},
        ],
    }  # fmt: skip
    lines = layer_lines(json.dumps(layer).encode(), extent)
    assert [len(line) for line in lines] == [2, 3]


def test_plan_map_and_overview_show_every_vehicle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_cjk_font()
    monkeypatch.setenv("LINLI_MAP_DATA", str(tmp_path))  # no optional layers: outline only
    sheets = documents().route_sheets
    png = plan_map_png(sheets, title="配送计划")
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.format == "PNG" and picture.width > 1000
        colours = set(picture.convert("RGB").get_flattened_data())
    assert len(colours) > 10  # routes, markers, text: not a blank canvas
    with pytest.raises(ValueError, match="at least one route sheet"):
        plan_map_png([])
    path = tmp_path / "overview.pdf"
    path.write_bytes(plan_overview_pdf(sheets, png, day=sheets[0].delivery_date))
    text = " ".join(pdf_text(path).split())
    assert "配送计划总览" in text and all(s.plate in text for s in sheets)
    assert page_count(path) >= 1
    assert [row[0] for row in vehicle_rows(sheets)[1:]] == sorted(s.plate for s in sheets)
