"""Vector layers for the map page: the city outline shipped with the package, and district and
street boundaries and OSM roads from a local data folder where one is present.

No tile server is reachable, so the map is drawn from these GeoJSON files alone. The folder
is ``LINLI_MAP_DATA`` or, when unset, ``shared/data-shanghai`` beside the repository (the
layout of the project's shared geodata: ``boundaries/`` and ``roads/``).
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (api/web/geo.py is two folders below it)."""


class LayerKind(enum.StrEnum):
    """How the page draws a layer: an area outline or a line network."""

    boundary = "boundary"
    road = "road"


@dataclass(frozen=True)
class MapLayer:
    """One GeoJSON file the map may draw, and where it comes from."""

    layer_id: str
    name_zh: str
    name_en: str
    kind: LayerKind
    attribution: str
    relative_path: str
    """Path inside the map data folder; empty for the outline shipped in the package."""


OUTLINE = MapLayer(
    "outline",
    "上海市界",
    "Shanghai outline",
    LayerKind.boundary,
    "审图号 GS(2024)0650",
    "",
)
OPTIONAL_LAYERS = (
    MapLayer(
        "districts",
        "区界",
        "Districts",
        LayerKind.boundary,
        "审图号 GS(2024)0650",
        "boundaries/shanghai_districts_16.geojson",
    ),
    MapLayer(
        "streets",
        "街道/镇界",
        "Streets and towns",
        LayerKind.boundary,
        "Stanford EarthWorks",
        "boundaries/shanghai_streets_214.geojson",
    ),
    MapLayer(
        "roads",
        "道路 (OSM)",
        "Roads (OSM)",
        LayerKind.road,
        "© OpenStreetMap contributors (ODbL)",
        "roads/osm_drive_peoples_square_ways.geojson",
    ),
)


def map_data_folder() -> Path | None:
    """The folder holding optional layers: ``LINLI_MAP_DATA``, else the shared geodata."""
    configured = os.environ.get("LINLI_MAP_DATA", "")
    if configured:
        return Path(configured)
    default = ROOT.parent / "shared" / "data-shanghai"
    return default if default.is_dir() else None


def available_layers() -> list[MapLayer]:
    """The outline and every optional layer whose file exists, in drawing order."""
    folder = map_data_folder()
    found = [OUTLINE]
    if folder is not None:
        found += [layer for layer in OPTIONAL_LAYERS if (folder / layer.relative_path).is_file()]
    return found


def layer_bytes(layer_id: str) -> bytes | None:
    """The GeoJSON of an available layer, or None when there is no such layer here."""
    if layer_id == OUTLINE.layer_id:
        return resources.files("data").joinpath("cities/shanghai.geojson").read_bytes()
    folder = map_data_folder()
    for layer in OPTIONAL_LAYERS:
        if layer.layer_id == layer_id and folder is not None:
            path = folder / layer.relative_path
            return path.read_bytes() if path.is_file() else None
    return None
