"""The control panel: server-rendered pages over the same services the APIs use."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from outpost.web.render import STATIC_DIR
from outpost.web.views import panel_router


def install_panel(app: FastAPI) -> None:
    """Add the panel's pages and its static files to ``app``."""
    app.include_router(panel_router())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
