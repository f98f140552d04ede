"""The account pages' secondary sidebar: one link per area of a delivery account.

As in the main sidebar, a link is shown only when the app has a page at its path.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from outpost.web.navigation import has_page


@dataclass(frozen=True)
class AccountArea:
    """One area of an account: its label and its path below ``/accounts/{id}``."""

    label: str
    subpath: str
    icon: str


AREAS: tuple[AccountArea, ...] = (
    AccountArea("Dashboard", "", "activity"),
    AccountArea("Domains", "/domains", "globe"),
    AccountArea("Details and credentials", "/credentials", "lock"),
    AccountArea("Protection and deliverability", "/protection", "shield"),
    AccountArea("API tokens", "/tokens", "key"),
    AccountArea("Suppression list", "/suppression", "x"),
    AccountArea("Message log", "/messages", "mail"),
    AccountArea("Service management", "/service", "layers"),
)


@dataclass(frozen=True)
class ShownArea:
    """An area as the secondary sidebar renders it for one account."""

    label: str
    path: str
    icon: str
    active: bool


def _existing(request: Request) -> tuple[AccountArea, ...]:
    found: tuple[AccountArea, ...] | None = getattr(request.app.state, "account_areas", None)
    if found is None:
        found = tuple(a for a in AREAS if has_page(request.app, f"/accounts/0{a.subpath}"))
        request.app.state.account_areas = found
    return found


def account_areas(request: Request, account_id: int) -> list[ShownArea]:
    """The links of account ``account_id``'s sidebar, the current one marked active."""
    base = f"/accounts/{account_id}"
    current = request.url.path
    shown = []
    for area in _existing(request):
        path = base + area.subpath
        active = current == path or (bool(area.subpath) and current.startswith(path + "/"))
        shown.append(ShownArea(area.label, path, area.icon, active))
    return shown
