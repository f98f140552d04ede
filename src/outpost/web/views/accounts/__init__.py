"""Delivery accounts in the panel: the list, the new-account wizard and each account's areas.

Every page of one account renders a template extending ``accounts/layout.html`` through
``shell.render_account``, which adds the account's header and its secondary sidebar.
Each area is a module with its own ``router``, included below.
"""

from __future__ import annotations

from fastapi import APIRouter

from outpost.web.views.accounts import (
    credentials,
    dashboard,
    domains,
    listing,
    messages,
    protection,
    service,
    suppression,
    tokens,
    wizard,
)

router = APIRouter()
# The wizard's /accounts/new before the dashboard's /accounts/{account_id}.
for _area in (
    listing,
    wizard,
    dashboard,
    service,
    domains,
    credentials,
    protection,
    tokens,
    suppression,
    messages,
):
    router.include_router(_area.router)
