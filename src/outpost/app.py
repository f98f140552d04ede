"""The FastAPI application: Management API, Send API and control panel in one ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.types import Receive, Scope, Send

from outpost import __version__
from outpost.accounts.api import router as accounts_router
from outpost.api.errors import install_error_handlers
from outpost.api.openapi import install_openapi
from outpost.billing.api import router as orders_router
from outpost.config import Settings, get_settings
from outpost.db import Database
from outpost.domains.api import router as domains_router
from outpost.events.api import router as events_router
from outpost.plans.api import router as plans_router
from outpost.sending import fastpath
from outpost.sending.api import router as send_router
from outpost.sending.service import Sending
from outpost.suppression.api import router as suppressions_router
from outpost.tenancy.api import router as tenancy_router
from outpost.tokens.api import router as tokens_router
from outpost.web import install_panel
from outpost.web.errors import error_page

API_PREFIX = "/api/v1"


def management_router() -> APIRouter:
    """Every Management API route under one router."""
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(tenancy_router)
    router.include_router(plans_router)
    router.include_router(accounts_router)
    router.include_router(suppressions_router)
    router.include_router(orders_router)
    router.include_router(domains_router)
    router.include_router(tokens_router)
    router.include_router(events_router)
    return router


class OutpostApp(FastAPI):
    """The app; the Send API's hot routes are answered before FastAPI's routing."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if not await fastpath.answer(scope, receive, send):
            await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    sending: Sending | None = None,
) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment).

    ``sending`` is the process's acceptance service when other services (SMTP) share it;
    otherwise the app makes its own and runs it for its lifetime.
    """
    settings = settings or get_settings()
    database = database or Database(settings.resolved_database_url())
    own_sending = sending is None
    sending = sending or Sending(database, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sending.start()
        try:
            yield
        finally:
            if own_sending:
                sending.stop()

    app = OutpostApp(
        title="Outpost",
        version=__version__,
        summary="Self-hosted, multi-tenant email delivery: Management API and Send API.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.sending = sending
    install_error_handlers(app, html_page=error_page)
    install_openapi(app)
    app.include_router(management_router())
    app.include_router(send_router)
    install_panel(app)
    return app
