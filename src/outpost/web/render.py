"""Rendering pages: the Jinja2 environment, the common page context and redirects."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from outpost import __version__
from outpost.web.cookies import FLASH_COOKIE, FlashLevel, add_flash, clear_cookie, read_flashes
from outpost.web.navigation import navigation
from outpost.web.viewer import Viewer

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"

# Pages may load scripts, styles and images from the panel itself only; no inline script runs.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def _asset_version() -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def static_url(path: str) -> str:
    """The URL of a static file, with a version that changes whenever any asset does."""
    return f"/static/{path}?v={_asset_version()}"


def _datetime(value: datetime | None, empty: str = "—") -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else empty


def _date(value: datetime | None, empty: str = "—") -> str:
    return value.strftime("%Y-%m-%d") if value else empty


def _number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _field_label(name: str) -> str:
    """A form field's name as people read it: ``billing.email_address`` → ``Email address``."""
    parts = name.split(".")
    if parts[0] == "tiers" and len(parts) == 3 and parts[1].isdigit():
        return f"Tier {int(parts[1]) + 1}: {parts[2]}"
    if len(parts) > 1 and parts[-2] == "max_accounts_per_plan":
        return f"Max accounts on plan {parts[-1]}"
    return parts[-1].replace("_", " ").capitalize()


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = static_url
    env.filters["datetime"] = _datetime
    env.filters["date"] = _date
    env.filters["number"] = _number
    env.filters["field_label"] = _field_label
    return env


templates = Jinja2Templates(env=_environment())


def viewer_of(request: Request) -> Viewer | None:
    """The logged-in user of this request, once the panel dependency has resolved it."""
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    return viewer


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A page: the template with the viewer, navigation and waiting flash messages."""
    viewer = viewer_of(request)
    flashes = read_flashes(request)
    page: dict[str, Any] = {
        "viewer": viewer,
        "nav": navigation(request, viewer),
        "flashes": flashes,
        "csrf_token": viewer.csrf_token if viewer else "",
        "public_url": request.app.state.settings.resolved_public_url(),
        "errors": {},
        "values": {},
        "field_labels": {},
        **(context or {}),
    }
    response = templates.TemplateResponse(
        request, name, page, status_code=status_code, headers=SECURITY_HEADERS
    )
    if FLASH_COOKIE in request.cookies:
        clear_cookie(request, response, FLASH_COOKIE)
    return response


def redirect(
    request: Request, url: str, *, flash: str | None = None, level: FlashLevel = "success"
) -> RedirectResponse:
    """After a form: go to ``url`` (303, so the browser GETs it) with an optional message."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        add_flash(request, response, level, flash)
    return response
