"""What every page of one delivery account shares: loading it for the viewer, and rendering."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from outpost.accounts.listing import AccountView
from outpost.accounts.service import get_account_view
from outpost.web.account_nav import account_areas
from outpost.web.render import render
from outpost.web.viewer import Viewer

STATUS_LABELS = {
    "enabled": "Enabled",
    "awaiting_payment": "Awaiting payment",
    "disabled": "Disabled",
    "blocked": "Blocked",
}
TYPE_LABELS = {"transactional": "Transactional", "promotional": "Promotional"}


def load_account(session: Session, viewer: Viewer, account_id: int) -> AccountView:
    """Account ``account_id`` as the viewer may see it; NotFound (a 404 page) otherwise."""
    return get_account_view(session=session, caller=viewer.caller, account_id=account_id)


def render_account(
    request: Request,
    name: str,
    view: AccountView,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """An account page: template ``name`` inside the account's header and secondary sidebar."""
    page = {
        "view": view,
        "account": view.account,
        "areas": account_areas(request, view.account.id),
        "status_labels": STATUS_LABELS,
        "type_labels": TYPE_LABELS,
        **(context or {}),
    }
    return render(request, name, page, status_code=status_code)
