"""The page shells without a browser: language choice and cookie, no data in the HTML,
the map layers served, and every word the templates and scripts ask for in the catalogue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.jobs import JobStatus
from api.main import create_app
from api.web import geo
from api.web.i18n import LANG_COOKIE, MESSAGES
from api.web.pages import HERE, NAV, PAGES
from data.store import Store
from tests.api.conftest import seed, settings_for

WORD = re.compile(r"""\bt\(\s*["'`]([a-z_]+)["'`]\s*[,)]""")
BUILT = [*(f"nav_{slug}" for slug in NAV), *(f"job_{s}" for s in JobStatus)]
"""Keys the templates and scripts build from a prefix (nav_ + page, job_ + status)."""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on a seeded SQLite file, without job workers."""
    url = f"sqlite:///{tmp_path_factory.mktemp('shells') / 'web.db'}"
    store = Store.open(url)
    store.migrate()
    seed(store)
    store.close()
    with TestClient(create_app(settings_for(url), start_jobs=False)) as test_client:
        yield test_client


def test_every_word_is_in_both_languages() -> None:
    sources = [*HERE.joinpath("templates").glob("*.html"), *HERE.joinpath("static").glob("*.js")]
    used = {m for path in sources for m in WORD.findall(path.read_text(encoding="utf-8"))}
    assert used, "no t(...) calls found: the pattern is out of date"
    assert sorted((used | set(BUILT)) - MESSAGES.keys()) == []
    assert [k for k, (zh, en) in MESSAGES.items() if not zh.strip() or not en.strip()] == []


@pytest.mark.parametrize("slug", [p.slug for p in PAGES])
def test_pages_are_chinese_first_and_switch_to_english(client: TestClient, slug: str) -> None:
    chinese = client.get(f"/web/{slug}")
    assert chinese.status_code == 200
    assert '<html lang="zh-CN">' in chinese.text
    assert LANG_COOKIE not in chinese.cookies
    english = client.get(f"/web/{slug}?lang=en")
    assert '<html lang="en">' in english.text
    assert english.cookies[LANG_COOKIE] == "en"
    remembered = client.get(f"/web/{slug}")  # the cookie now set on the client
    assert '<html lang="en">' in remembered.text
    client.cookies.clear()


def test_page_shells_carry_no_store_data(client: TestClient) -> None:
    for slug in ("leader", "dispatcher", "driver"):
        html = client.get(f"/web/{slug}?date=2022-04-15").text
        assert not [word for word in ("王阿姨", "13800138000", "花木小区") if word in html]


def test_home_goes_to_sign_in(client: TestClient) -> None:
    reply = client.get("/web", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/web/login"


def test_pages_are_not_in_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/web")]


def test_map_layers_outline_always_others_from_the_data_folder(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINLI_MAP_DATA", str(tmp_path))
    layers = client.get("/web/geo/layers.json").json()
    assert [x["layer_id"] for x in layers] == ["outline"]
    outline = client.get("/web/geo/outline.geojson")
    assert outline.headers["content-type"] == "application/geo+json"
    assert outline.json()["properties"]["name"] == "上海市"
    assert client.get("/web/geo/roads.geojson").status_code == 404

    road = tmp_path / "roads" / "osm_drive_peoples_square_ways.geojson"
    road.parent.mkdir()
    road.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    assert [x["layer_id"] for x in client.get("/web/geo/layers.json").json()] == [
        "outline",
        "roads",
    ]
    assert client.get("/web/geo/roads.geojson").json()["features"] == []
    assert geo.layer_bytes("../../etc/passwd") is None
