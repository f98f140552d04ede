"""The control panel: server-rendered pages over the same services the APIs use."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from outpost.throttle import FailedLogins
from outpost.web.render import STATIC_DIR
from outpost.web.views import panel_router


def install_panel(app: FastAPI) -> None:
    """Add the panel's pages and its static files to ``app``."""
    settings = app.state.settings
    app.state.panel_login_failures = FailedLogins(
        settings.panel_login_max_failures, settings.panel_login_failure_window
    )
    app.include_router(panel_router())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
