"""Travel matrices: integer metres and seconds between points, behind one interface.

Three sources:

- ``HaversineMatrix``: great-circle distance × a circuity factor (default 1.4, the value
  measured for Shanghai in ``../shared/data-shanghai``), at a speed per vehicle type;
  needs no data and is the default.
- ``RoadGraphMatrix``: shortest (fastest) paths on an OpenStreetMap drive extract, with
  ``scipy.sparse.csgraph.dijkstra``; one-way streets respected, points snapped to the
  nearest node of the largest strongly connected part of the network.
- ``OsrmTableClient``: an OSRM server's ``/table`` service, for cities with a server.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from data.geo import EARTH_RADIUS_M, haversine_matrix_m

IntMatrix = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SPEED_KMH: dict[str, float] = {"van": 18.0, "truck": 15.0, "e_tricycle": 12.0}
"""Lockdown-time average speeds by vehicle type (checkpoints, closed lanes, gate queues)."""

ROAD_SPEED_KMH: dict[str, float] = {
    "trunk": 40.0,
    "trunk_link": 30.0,
    "primary": 25.0,
    "primary_link": 20.0,
    "secondary": 22.0,
    "secondary_link": 18.0,
    "tertiary": 20.0,
    "tertiary_link": 16.0,
    "residential": 15.0,
    "living_street": 8.0,
    "unclassified": 15.0,
}
"""Urban speeds by OSM highway class; unknown classes use 15 km/h."""


@dataclass(frozen=True)
class Matrix:
    """Distances (metres) and durations (seconds) from every point to every point."""

    distance_m: IntMatrix
    duration_s: IntMatrix

    def __post_init__(self) -> None:
        if self.distance_m.shape != self.duration_s.shape:
            raise ValueError("distance and duration matrices differ in shape")
        if self.distance_m.dtype != np.int64 or self.duration_s.dtype != np.int64:
            raise TypeError("matrices must be integer (int64) metres and seconds")

    def __iter__(self) -> Iterator[IntMatrix]:
        """Unpack as ``distance_m, duration_s = source.matrix(lons, lats)``."""
        return iter((self.distance_m, self.duration_s))


class TravelMatrix(Protocol):
    """Anything that gives a travel matrix between WGS84 points."""

    def matrix(self, lons: FloatArray, lats: FloatArray) -> Matrix:
        """Square matrix between the points ``(lons[i], lats[i])``."""
        ...


def _rounded(values: FloatArray) -> IntMatrix:
    result: IntMatrix = np.rint(values).astype(np.int64)
    return result


@dataclass(frozen=True)
class HaversineMatrix:
    """Great-circle distance × circuity; duration at a constant speed."""

    circuity: float = 1.4
    speed_kmh: float = SPEED_KMH["van"]

    def __post_init__(self) -> None:
        if not 1.0 <= self.circuity <= 3.0:
            raise ValueError(f"circuity {self.circuity} is outside 1.0..3.0 (Shanghai: 1.3-1.8)")
        if self.speed_kmh <= 0:
            raise ValueError(f"speed_kmh must be positive, got {self.speed_kmh}")

    @classmethod
    def for_vehicle(cls, vehicle_type: str, *, circuity: float = 1.4) -> HaversineMatrix:
        """The matrix for a vehicle type of ``SPEED_KMH``."""
        if vehicle_type not in SPEED_KMH:
            raise ValueError(
                f"unknown vehicle type {vehicle_type!r}; use one of {', '.join(SPEED_KMH)}"
            )
        return cls(circuity=circuity, speed_kmh=SPEED_KMH[vehicle_type])

    def matrix(self, lons: FloatArray, lats: FloatArray) -> Matrix:
        """Integer metres and seconds between all pairs of points."""
        metres = haversine_matrix_m(lons, lats, lons, lats) * self.circuity
        seconds = metres / (self.speed_kmh / 3.6)
        return Matrix(_rounded(metres), _rounded(seconds))


def _local_xy(lons: FloatArray, lats: FloatArray, lat0: float) -> FloatArray:
    """Equirectangular metres around ``lat0``: exact enough for snapping within a city."""
    x = np.radians(lons) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    y = np.radians(lats) * EARTH_RADIUS_M
    result: FloatArray = np.column_stack([x, y])
    return result


@dataclass(frozen=True)
class RoadGraphMatrix:
    """Fastest paths on a directed road graph; distances are measured along those paths.

    A point is joined to its nearest node by a straight access leg (× ``access_circuity``
    at ``access_speed_kmh``); a point farther than ``max_snap_m`` from the network is an
    error, since the extract does not cover it.
    """

    node_ids: tuple[int, ...]
    node_lon: FloatArray = field(repr=False)
    node_lat: FloatArray = field(repr=False)
    length_m: csr_array = field(repr=False)
    time_s: csr_array = field(repr=False)
    max_snap_m: float = 300.0
    access_circuity: float = 1.4
    access_speed_kmh: float = 10.0

    @classmethod
    def from_csv(
        cls,
        nodes_csv: Path,
        edges_csv: Path,
        *,
        ground_level_only: bool = True,
        max_snap_m: float = 300.0,
    ) -> RoadGraphMatrix:
        """Build from node (``node_id, lon, lat``) and directed edge CSVs of an OSM extract.

        Edges are ``u -> v`` with ``length_m``, ``oneway`` and ``highway``; both directions
        of two-way streets are listed as separate rows. ``ground_level_only`` drops
        elevated expressways (``bridge=yes`` trunk roads), which delivery vans avoid.
        """
        nodes = pl.read_csv(nodes_csv, schema_overrides={"node_id": pl.Int64})
        edges = pl.read_csv(
            edges_csv,
            schema_overrides={"u": pl.Int64, "v": pl.Int64, "length_m": pl.Float64},
            infer_schema=False,
        )
        missing = {"u", "v", "length_m", "highway"} - set(edges.columns)
        if missing:
            raise ValueError(f"{edges_csv}: missing columns {', '.join(sorted(missing))}")
        if ground_level_only and "bridge" in edges.columns:
            edges = edges.filter(
                ~((pl.col("bridge") == "yes") & pl.col("highway").str.starts_with("trunk"))
            )
        index = {node: i for i, node in enumerate(nodes["node_id"].to_list())}
        unknown = [n for n in set(edges["u"]) | set(edges["v"]) if n not in index]
        if unknown:
            raise ValueError(f"{edges_csv}: edges use {len(unknown)} nodes not in {nodes_csv}")
        u = np.array([index[n] for n in edges["u"].to_list()], dtype=np.int64)
        v = np.array([index[n] for n in edges["v"].to_list()], dtype=np.int64)
        length = edges["length_m"].to_numpy().astype(np.float64)
        speed = np.array(
            [ROAD_SPEED_KMH.get(h, 15.0) for h in edges["highway"].to_list()], dtype=np.float64
        )
        size = nodes.height
        lengths = csr_array((length, (u, v)), shape=(size, size))
        times = csr_array((length / (speed / 3.6), (u, v)), shape=(size, size))
        # Keep the largest strongly connected part, so every pair of snapped points connects.
        _, labels = connected_components(lengths, directed=True, connection="strong")
        keep = labels == np.bincount(labels).argmax()
        kept = np.flatnonzero(keep)
        return cls(
            node_ids=tuple(int(n) for n in nodes["node_id"].to_numpy()[kept]),
            node_lon=nodes["lon"].to_numpy()[kept].astype(np.float64),
            node_lat=nodes["lat"].to_numpy()[kept].astype(np.float64),
            length_m=csr_array(lengths[kept][:, kept]),
            time_s=csr_array(times[kept][:, kept]),
            max_snap_m=max_snap_m,
        )

    def snap(self, lons: FloatArray, lats: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Nearest network node of each point and the straight distance to it (metres)."""
        lat0 = float(np.mean(self.node_lat))
        tree = cKDTree(_local_xy(self.node_lon, self.node_lat, lat0))
        gap, nearest = tree.query(_local_xy(np.asarray(lons), np.asarray(lats), lat0))
        far = np.flatnonzero(gap > self.max_snap_m)
        if far.size:
            where = ", ".join(f"#{i} ({lons[i]:.5f}, {lats[i]:.5f})" for i in far[:5])
            raise ValueError(
                f"{far.size} point(s) lie more than {self.max_snap_m:.0f} m from the road "
                f"extract: {where}; use HaversineMatrix or a larger extract for them"
            )
        return nearest.astype(np.int64), np.asarray(gap, dtype=np.float64)

    def path(self, source_id: int, target_id: int) -> tuple[int, ...]:
        """OSM node ids of the fastest path from one network node to another."""
        index = {node: i for i, node in enumerate(self.node_ids)}
        for node in (source_id, target_id):
            if node not in index:
                raise ValueError(f"node {node} is not in the connected road network")
        _, predecessors = dijkstra(self.time_s, indices=index[source_id], return_predecessors=True)
        walk = [index[target_id]]
        while walk[-1] != index[source_id]:
            walk.append(int(predecessors[walk[-1]]))
        return tuple(self.node_ids[i] for i in reversed(walk))

    def matrix(self, lons: FloatArray, lats: FloatArray) -> Matrix:
        """Integer metres and seconds along the fastest paths between the points."""
        nodes, access = self.snap(lons, lats)
        sources = np.unique(nodes)
        times, predecessors = dijkstra(self.time_s, indices=sources, return_predecessors=True)
        lengths = np.zeros_like(times)
        for row in range(sources.size):
            # Walk nodes in order of arrival time: a node's distance is its predecessor's
            # plus the edge, so the distances follow the fastest paths exactly.
            order = np.argsort(times[row], kind="stable")
            pred = predecessors[row]
            for node in order:
                before = pred[node]
                if before >= 0:
                    lengths[row, node] = lengths[row, before] + self.length_m[before, node]
        row_of = {int(node): r for r, node in enumerate(sources)}
        rows = np.array([row_of[int(n)] for n in nodes])
        on_graph_m = lengths[rows][:, nodes]
        on_graph_s = times[rows][:, nodes]
        access_m = access * self.access_circuity
        access_s = access_m / (self.access_speed_kmh / 3.6)
        metres = on_graph_m + access_m[:, None] + access_m[None, :]
        seconds = on_graph_s + access_s[:, None] + access_s[None, :]
        np.fill_diagonal(metres, 0.0)
        np.fill_diagonal(seconds, 0.0)
        return Matrix(_rounded(metres), _rounded(seconds))


class OsrmError(RuntimeError):
    """The OSRM server could not be reached or answered with an error."""


@dataclass(frozen=True)
class OsrmTableClient:
    """Distances and durations from an OSRM server's ``/table/v1`` service."""

    base_url: str
    profile: str = "driving"
    timeout_s: float = 30.0

    def url(self, lons: FloatArray, lats: FloatArray) -> str:
        """The ``/table`` request for the points (OSRM wants ``lon,lat;lon,lat``)."""
        coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lon, lat in zip(lons, lats, strict=True))
        return (
            f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coordinates}"
            "?annotations=distance,duration"
        )

    def matrix(self, lons: FloatArray, lats: FloatArray) -> Matrix:
        """Ask the server; unreachable pairs (``null`` in the answer) are an error."""
        try:
            with urllib.request.urlopen(self.url(lons, lats), timeout=self.timeout_s) as answer:
                body = json.loads(answer.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:300]
            raise OsrmError(f"OSRM answered HTTP {error.code}: {detail}") from error
        except (urllib.error.URLError, TimeoutError) as error:
            raise OsrmError(f"OSRM server {self.base_url} unreachable: {error}") from error
        if body.get("code") != "Ok":
            raise OsrmError(f"OSRM error {body.get('code')}: {body.get('message', '')}")
        distances, durations = body.get("distances"), body.get("durations")
        if distances is None or durations is None:
            raise OsrmError("OSRM answer lacks distances or durations (annotations ignored?)")
        if any(value is None for row in (*distances, *durations) for value in row):
            raise OsrmError("OSRM found no route between some points (null in the table)")
        return Matrix(
            _rounded(np.array(distances, dtype=np.float64)),
            _rounded(np.array(durations, dtype=np.float64)),
        )
