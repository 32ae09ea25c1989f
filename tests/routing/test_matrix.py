"""Travel matrices: haversine × circuity, OSM road graph (one-way), OSRM /table client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pytest

from data.geo import haversine_m
from routing.matrix import HaversineMatrix, OsrmError, OsrmTableClient, RoadGraphMatrix

ROUTING = Path(__file__).resolve().parents[1] / "instances" / "routing"
LONS = np.array([121.4692, 121.4956, 121.4737])
LATS = np.array([31.2317, 31.2397, 31.2304])


def test_haversine_matrix_is_integer_circuity_times_great_circle() -> None:
    m = HaversineMatrix(circuity=1.4, speed_kmh=18.0).matrix(LONS, LATS)
    assert m.distance_m.dtype == np.int64 and m.duration_s.dtype == np.int64
    assert (np.diag(m.distance_m) == 0).all()
    expected = haversine_m(LONS[0], LATS[0], LONS[1], LATS[1]) * 1.4
    assert m.distance_m[0, 1] == round(expected)
    assert m.duration_s[0, 1] == round(expected / 5.0)  # 18 km/h = 5 m/s
    assert (m.distance_m == m.distance_m.T).all()
    slow = HaversineMatrix.for_vehicle("e_tricycle").matrix(LONS, LATS)
    assert slow.duration_s[0, 1] > m.duration_s[0, 1]
    with pytest.raises(ValueError, match="unknown vehicle type"):
        HaversineMatrix.for_vehicle("rocket")


@pytest.fixture(scope="module")
def graph() -> RoadGraphMatrix:
    """The tiny People's Square extract."""
    return RoadGraphMatrix.from_csv(ROUTING / "tiny_nodes.csv", ROUTING / "tiny_edges.csv")


def test_road_graph_respects_one_way_streets(graph: RoadGraphMatrix) -> None:
    lengths = graph.length_m.tocoo()
    pairs = {(int(u), int(v)): float(w) for u, v, w in zip(lengths.row, lengths.col,
                                                           lengths.data, strict=True)}  # fmt: skip
    one_way = next((u, v) for (u, v) in pairs if (v, u) not in pairs)
    u, v = one_way
    lons = graph.node_lon[[u, v]]
    lats = graph.node_lat[[u, v]]
    m = graph.matrix(lons, lats)
    assert m.distance_m[0, 1] == round(pairs[one_way])  # along the one-way edge
    assert m.distance_m[1, 0] > m.distance_m[0, 1]  # back round the block
    assert m.duration_s[1, 0] > m.duration_s[0, 1]


def test_road_distances_exceed_straight_lines_and_stay_plausible(graph: RoadGraphMatrix) -> None:
    picks = [0, len(graph.node_ids) // 3, 2 * len(graph.node_ids) // 3, len(graph.node_ids) - 1]
    lons, lats = graph.node_lon[picks], graph.node_lat[picks]
    m = graph.matrix(lons, lats)
    for i in range(len(picks)):
        for j in range(len(picks)):
            if i != j:
                straight = haversine_m(lons[i], lats[i], lons[j], lats[j])
                assert straight - 1 <= m.distance_m[i, j] <= 6 * straight + 500


def test_point_off_the_extract_is_an_error_naming_it(graph: RoadGraphMatrix) -> None:
    with pytest.raises(ValueError, match=r"#1 \(121.60000, 31.30000\).*HaversineMatrix"):
        graph.matrix(np.array([graph.node_lon[0], 121.6]), np.array([graph.node_lat[0], 31.3]))


class _FakeOsrm(BaseHTTPRequestHandler):
    """Answers /table/v1/driving/... in OSRM's documented format; one pair unreachable on ask."""

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        coordinates = path.split("/")[-1].split(";")
        points = [tuple(map(float, c.split(","))) for c in coordinates]
        if "annotations=distance,duration" not in query or not path.startswith("/table/v1/"):
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b'{"code":"InvalidQuery","message":"bad"}')
            return
        distances = [[round(haversine_m(*a, *b) * 1.3, 1) for b in points] for a in points]
        durations = [[round(d / 6.0, 1) for d in row] for row in distances]
        if len(points) == 4:  # the test's unreachable case
            distances[0][3] = None  # type: ignore[call-overload]
        body = {"code": "Ok", "distances": distances, "durations": durations,
                "sources": [], "destinations": []}  # fmt: skip
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def osrm_url() -> Iterator[str]:
    """A local HTTP server speaking OSRM's /table format."""
    server = HTTPServer(("127.0.0.1", 0), _FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_osrm_client_parses_the_table(osrm_url: str) -> None:
    client = OsrmTableClient(osrm_url)
    assert "/table/v1/driving/121.469200,31.231700;" in client.url(LONS, LATS)
    m = client.matrix(LONS, LATS)
    expected = haversine_m(LONS[0], LATS[0], LONS[1], LATS[1]) * 1.3
    assert abs(m.distance_m[0, 1] - expected) <= 1
    assert m.duration_s[0, 1] == round(round(round(expected, 1) / 6.0, 1))
    assert m.distance_m.dtype == np.int64


def test_osrm_unreachable_pairs_and_dead_servers_are_errors(osrm_url: str) -> None:
    four = np.array([*LONS, 121.48]), np.array([*LATS, 31.23])
    with pytest.raises(OsrmError, match="no route"):
        OsrmTableClient(osrm_url).matrix(*four)
    with pytest.raises(OsrmError, match="unreachable"):
        OsrmTableClient("http://127.0.0.1:9", timeout_s=2).matrix(LONS, LATS)


# 西藏中路 northbound between 1890502811 and 601145306, a one-way secondary road: four OSM
# segments of 42.67 + 90.97 + 13.30 + 51.63 = 198.57 m, at 22 km/h = 32.5 s (hand-checked
# in tiny_edges.csv).
XIZANG_ZHONGLU = (1890502811, 601145302, 1890502915, 3355899012, 601145306)


def test_road_graph_path_is_the_hand_checked_one(graph: RoadGraphMatrix) -> None:
    assert graph.path(XIZANG_ZHONGLU[0], XIZANG_ZHONGLU[-1]) == XIZANG_ZHONGLU
    ends = [graph.node_ids.index(n) for n in (XIZANG_ZHONGLU[0], XIZANG_ZHONGLU[-1])]
    distance_m, duration_s = graph.matrix(graph.node_lon[ends], graph.node_lat[ends])
    assert distance_m[0, 1] == 199
    assert duration_s[0, 1] == 32
    back = graph.path(XIZANG_ZHONGLU[-1], XIZANG_ZHONGLU[0])
    assert back != tuple(reversed(XIZANG_ZHONGLU))  # one-way: the way back goes round
    assert distance_m[1, 0] > 199
    with pytest.raises(ValueError, match="not in the connected road network"):
        graph.path(1, XIZANG_ZHONGLU[0])
