"""The FastAPI application: Management API, Send API and control panel in one ASGI app."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from outpost import __version__
from outpost.api.errors import install_error_handlers
from outpost.config import Settings, get_settings
from outpost.db import Database
from outpost.plans.api import router as plans_router
from outpost.tenancy.api import router as tenancy_router
from outpost.web import install_panel
from outpost.web.errors import error_page

API_PREFIX = "/api/v1"


def management_router() -> APIRouter:
    """Every Management API route under one router."""
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(tenancy_router)
    router.include_router(plans_router)
    return router


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Outpost",
        version=__version__,
        summary="Self-hosted, multi-tenant email delivery: Management API and Send API.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.db = database or Database(settings.resolved_database_url())
    install_error_handlers(app, html_page=error_page)
    app.include_router(management_router())
    install_panel(app)
    return app
