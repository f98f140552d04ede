"""The panel's pages, one module per area; each route parses, calls a service and renders."""

from __future__ import annotations

from fastapi import APIRouter

from outpost.web.views import (
    accounts,
    api_keys,
    auth,
    domains,
    home,
    orders,
    organizations,
    plans,
    profile,
    users,
)

AREAS = (auth, home, accounts, api_keys, domains, orders, organizations, users, plans, profile)


def panel_router() -> APIRouter:
    """Every panel page under one router, kept out of the API's OpenAPI schema."""
    router = APIRouter(include_in_schema=False)
    for area in AREAS:
        router.include_router(area.router)
    return router
