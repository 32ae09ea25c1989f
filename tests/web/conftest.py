"""Browser tests of the pages: a real server on a seeded SQLite file with a planned day, and
Playwright driving Debian's ``chromium`` (never a downloaded browser).

When chromium, Playwright or the npm packages (axe-core, Leaflet) are missing, the tests fail
under CI=true (``make test`` installs all three) and are skipped otherwise, saying what to
install. Screenshots go to ``$LINLI_ARTIFACTS`` or ``tests/web/artifacts/``.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from api.main import create_app
from api.subprocess_server import free_port
from api.web.pages import NODE_MODULES, leaflet_installed
from data.store import Store
from tests.api.conftest import PASSWORD, seed, settings_for

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

DAY = "2022-04-15"
ARTIFACTS = Path(os.environ.get("LINLI_ARTIFACTS") or Path(__file__).parent / "artifacts")
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def _missing(what: str, fix: str) -> NoReturn:
    """Fail under CI=true, else skip, saying how to install ``what``."""
    message = f"{what} is missing: {fix}"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"CI=true and the browser tests cannot run: {message}")
    pytest.skip(message)


def chromium_executable() -> str:
    """Debian's chromium: ``$LINLI_CHROMIUM`` or the first on PATH."""
    configured = os.environ.get("LINLI_CHROMIUM", "")
    if configured and Path(configured).is_file():
        return configured
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    _missing("chromium", "install Debian's chromium (apt-get install -y chromium)")


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    """A started Playwright driver (the PyPI package; no browser of its own is used)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package", "pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    """Headless Debian chromium."""
    executable = chromium_executable()
    launched = playwright_session.chromium.launch(
        executable_path=executable, headless=True, args=["--no-sandbox", "--disable-gpu"]
    )
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle from api/web/node_modules."""
    if not AXE.is_file():
        _missing("axe-core", "run npm ci --prefix api/web (make test does)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def leaflet() -> None:
    """Leaflet's dist files, served by the app from api/web/node_modules."""
    if not leaflet_installed():
        _missing("Leaflet", "run npm ci --prefix api/web (make test does)")


def _wait_job(client: httpx.Client, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    """Poll a job until it is done (at most two minutes)."""
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


@pytest.fixture(scope="session")
def web_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running server on a seeded SQLite file whose day is matched and planned, drawing
    its optional map layers from a tiny folder made here (not the shared geodata)."""
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'web.db'}"
    write_map_data(folder / "map")
    store = Store.open(url)
    store.migrate()
    seed(store)
    store.close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LINLI_MAP_DATA", str(folder / "map"))
        with running(create_app(settings_for(url))) as root:
            plan_the_day(root)
            yield root


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free port; its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="linli-web-test-server", daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        while not server.started:
            if not thread.is_alive() or time.monotonic() - started > 60:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def plan_the_day(root: str) -> None:
    """Match and plan the test day as the admin, so drivers and leaders have documents."""
    with httpx.Client(base_url=root, timeout=30) as client:
        admin = {"Authorization": f"Bearer {token(client, 'admin')}"}
        match = client.post("/match", headers=admin, json={"delivery_date": DAY, "time_limit_s": 5})
        matched = _wait_job(client, admin, match.json()["job_id"])
        assert matched["status"] == "succeeded", matched
        plan = client.post(
            "/plans",
            headers=admin,
            json={"delivery_date": DAY, "match_job_id": matched["job_id"], "time_limit_s": 2},
        )
        planned = _wait_job(client, admin, plan.json()["job_id"])
        assert planned["status"] == "succeeded", planned


def write_map_data(folder: Path) -> None:
    """One district polygon around the test compounds and one road, as the map folder."""
    square = [[121.50, 31.19], [121.57, 31.19], [121.57, 31.23], [121.50, 31.23], [121.50, 31.19]]
    districts = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"县名": "浦东新区"},
                "geometry": {"type": "Polygon", "coordinates": [square]},
            }
        ],
    }
    roads = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "花木路", "highway": "secondary"},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[121.52, 31.21], [121.56, 31.21]],
                },
            }
        ],
    }
    (folder / "boundaries").mkdir(parents=True)
    (folder / "roads").mkdir()
    (folder / "boundaries" / "shanghai_districts_16.geojson").write_text(json.dumps(districts))
    (folder / "roads" / "osm_drive_peoples_square_ways.geojson").write_text(json.dumps(roads))


def token(client: httpx.Client, username: str) -> str:
    """A bearer token for a seeded user."""
    reply = client.post("/auth/token", data={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    access: str = reply.json()["access_token"]
    return access


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (own localStorage) and page, phone-sized."""
    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="zh-CN")
    context.set_default_timeout(20_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def sign_in(page: Page, base: str, username: str, landing: str) -> None:
    """Sign in on the login page and wait for the role's page to be ready."""
    page.goto(f"{base}/web/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"**/web/{landing}*")


def open_page(page: Page, base: str, slug: str, **query: str) -> None:
    """Go to a page for the test day and wait until its script has loaded its data."""
    params = "&".join(f"{k}={v}" for k, v in {"date": DAY, **query}.items())
    page.goto(f"{base}/web/{slug}?{params}")
    page.wait_for_selector("body[data-ready='1']")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
