"""The page routes (login, driver, leader, dispatcher, map, volunteer, and the resident's join
and self-check pages) and the static files they load.

Each page is a shell rendered in the request's language; its script signs in through
``POST /auth/token`` and reads and writes only through the JSON API with the bearer token,
so a page can never show more than the API gives that user. The resident pages have no
sign-in: the group's link or the household's code in the address is the key, as in the API.
The map layers served here are public geodata (boundaries, roads), not store data.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.errors import ApiError
from api.web.geo import available_layers, layer_bytes
from api.web.i18n import LANG_COOKIE, Lang, catalogue, pick_lang
from data.schemas import SHANGHAI

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
STATIC = HERE / "static"
NODE_MODULES = HERE / "node_modules"
LEAFLET_DIST = NODE_MODULES / "leaflet" / "dist"
PREFIX = "/web"


@dataclass(frozen=True)
class Page:
    """A page: its path under /web, template, title and the roles it is made for."""

    slug: str
    title_key: str
    roles: tuple[str, ...]


PAGES = (
    Page("login", "login_title", ()),
    Page("driver", "driver_title", ("driver",)),
    Page("leader", "leader_title", ("leader",)),
    Page("dispatcher", "dispatcher_title", ("dispatcher", "admin")),
    Page("map", "map_title", ("dispatcher", "admin", "driver")),
    Page("volunteer", "volunteer_title", ("volunteer",)),
    Page("join", "join_title", ()),
    Page("me", "me_title", ()),
)
NAV = ("driver", "leader", "dispatcher", "map", "volunteer")
"""Pages linked in the header, in order."""

router = APIRouter(include_in_schema=False)


def leaflet_installed() -> bool:
    """Whether ``npm ci --prefix api/web`` has put Leaflet's dist files here."""
    return (LEAFLET_DIST / "leaflet.js").is_file() and (LEAFLET_DIST / "leaflet.css").is_file()


def _context(request: Request, page: Page, lang: Lang) -> dict[str, Any]:
    """What every template gets: the page, words in its language, switches and the date."""
    words = catalogue(lang)
    other = Lang.en if lang is Lang.zh else Lang.zh
    today = dt.datetime.now(SHANGHAI).date()
    wanted = request.query_params.get("date", "")
    try:
        day = dt.date.fromisoformat(wanted) if wanted else today
    except ValueError:
        day = today

    def t(key: str, **values: object) -> str:
        text = words.get(key, key)
        return text.format(**values) if values else text

    return {
        "request": request,
        "page": page,
        "lang": lang,
        "t": t,
        "html_lang": lang.html_tag,
        "switch_url": str(request.url.include_query_params(lang=other.value)),
        "messages_json": Markup(json.dumps(words, ensure_ascii=False).replace("</", "<\\/")),
        "delivery_date": day.isoformat(),
        "pages": {p.slug: p for p in PAGES},
        "nav": NAV,
        "prefix": PREFIX,
        "leaflet": leaflet_installed(),
    }


def _render(request: Request, slug: str, key: str = "") -> Response:
    """Render one page; a ``?lang=`` choice is remembered in a cookie for the next page.

    ``key`` is the resident pages' group link or household code: given to the script, and
    kept out of the Referer sent to other sites.
    """
    page = next(p for p in PAGES if p.slug == slug)
    lang = pick_lang(request)
    headers = {"Cache-Control": "no-store"}
    if key:
        headers["Referrer-Policy"] = "no-referrer"
    response = TEMPLATES.TemplateResponse(
        request,
        f"{slug}.html",
        _context(request, page, lang) | {"page_key": key},
        headers=headers,
    )
    if request.query_params.get("lang") in (Lang.zh.value, Lang.en.value):
        response.set_cookie(LANG_COOKIE, lang.value, max_age=365 * 86400, samesite="lax")
    return response


@router.get(PREFIX)
@router.get(f"{PREFIX}/")
def web_home() -> RedirectResponse:
    """Pages start at the sign-in page."""
    return RedirectResponse(f"{PREFIX}/login", status_code=303)


@router.get(f"{PREFIX}/login")
def login_page(request: Request) -> Response:
    """Sign in (OAuth2 password flow against /auth/token), then go to the role's page."""
    return _render(request, "login")


@router.get(f"{PREFIX}/driver")
def driver_page(request: Request) -> Response:
    """The driver's route of the day with stop reports that survive a dropped connection."""
    return _render(request, "driver")


@router.get(f"{PREFIX}/leader")
def leader_page(request: Request) -> Response:
    """The leader's demand, 接龙 import, groups, match, window, sorting list and notices."""
    return _render(request, "leader")


@router.get(f"{PREFIX}/dispatcher")
def dispatcher_page(request: Request) -> Response:
    """The dispatcher's demand table and map, plan status and printable route sheets."""
    return _render(request, "dispatcher")


@router.get(f"{PREFIX}/map")
def map_page(request: Request) -> Response:
    """The plan's routes coloured per vehicle over boundaries and roads."""
    return _render(request, "map")


@router.get(f"{PREFIX}/volunteer")
def volunteer_page(request: Request) -> Response:
    """The building volunteer's hand-out sheet of the day and the three hand-out steps."""
    return _render(request, "volunteer")


@router.get(f"{PREFIX}/join")
def join_start_page(request: Request) -> Response:
    """Where a resident pastes the group link the leader shared."""
    return _render(request, "join")


@router.get(PREFIX + "/join/{token}")
def join_page(request: Request, token: Annotated[str, PathParam(max_length=64)]) -> Response:
    """A group's public page (no sign-in): package, prices, fees, deadline and the sign-up."""
    return _render(request, "join", token)


@router.get(f"{PREFIX}/me")
def resident_start_page(request: Request) -> Response:
    """Where a resident types in the code of their line."""
    return _render(request, "me")


@router.get(PREFIX + "/me/{code}")
def resident_page(request: Request, code: Annotated[str, PathParam(max_length=16)]) -> Response:
    """A household's own lines by its resident code (no sign-in), with its claims."""
    return _render(request, "me", code)


@router.get(f"{PREFIX}/geo/layers.json")
def map_layers() -> list[dict[str, str]]:
    """The vector layers this server can draw (the outline always)."""
    return [
        {
            "layer_id": layer.layer_id,
            "name_zh": layer.name_zh,
            "name_en": layer.name_en,
            "kind": layer.kind.value,
            "attribution": layer.attribution,
            "url": f"{PREFIX}/geo/{layer.layer_id}.geojson",
        }
        for layer in available_layers()
    ]


@router.get(PREFIX + "/geo/{layer_id}.geojson")
def map_layer(layer_id: str) -> Response:
    """One layer's GeoJSON, cached by the browser for a day."""
    body = layer_bytes(layer_id)
    if body is None:
        raise ApiError(404, "not_found", f"no map layer {layer_id!r} on this server")
    return Response(
        body, media_type="application/geo+json", headers={"Cache-Control": "max-age=86400"}
    )


def mount_web(app: FastAPI) -> None:
    """Add the pages, their static files and, when installed, Leaflet's dist files."""
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="web-static")
    if leaflet_installed():
        app.mount(
            f"{PREFIX}/vendor/leaflet", StaticFiles(directory=LEAFLET_DIST), name="web-leaflet"
        )
