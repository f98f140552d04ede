"""The sidebar: which links a user sees, by organization kind, role and existing pages.

Sections list every area of the panel, including those whose pages other packages add
later (accounts, domains, orders). A link is shown only when the app has a
page at its path, so the sidebar never offers a dead link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from starlette.routing import Match

from outpost.web.viewer import Viewer

Rule = Callable[[Viewer], bool]


def _everyone(_viewer: Viewer) -> bool:
    return True


def _operator(viewer: Viewer) -> bool:
    return viewer.is_operator


def _reseller(viewer: Viewer) -> bool:
    return viewer.manages_organizations and not viewer.is_operator


@dataclass(frozen=True)
class NavLink:
    """One sidebar entry."""

    label: str
    path: str
    icon: str
    shown_to: Rule = _everyone


@dataclass(frozen=True)
class NavSection:
    """A titled group of links."""

    title: str
    links: tuple[NavLink, ...]


SECTIONS: tuple[NavSection, ...] = (
    NavSection("", (NavLink("Home", "/", "home"),)),
    NavSection(
        "Sending",
        (
            NavLink("Accounts", "/accounts", "send"),
            NavLink("Domains", "/domains", "globe"),
            NavLink("Orders", "/orders", "receipt"),
        ),
    ),
    NavSection(
        "Management",
        (
            NavLink("Organizations", "/organizations", "building", _operator),
            NavLink("Customers", "/organizations", "building", _reseller),
            NavLink("Plans", "/plans", "layers"),
        ),
    ),
    NavSection(
        "Settings",
        (
            NavLink("Company profile", "/organization", "briefcase"),
            NavLink("Users", "/users", "users"),
            NavLink("API keys", "/api-keys", "key"),
            NavLink("My profile", "/profile", "user"),
        ),
    ),
)


@dataclass(frozen=True)
class ShownLink:
    """A link as the sidebar renders it."""

    label: str
    path: str
    icon: str
    active: bool


@dataclass(frozen=True)
class ShownSection:
    """A section with at least one link to show."""

    title: str
    links: list[ShownLink]


def has_page(app: FastAPI, path: str) -> bool:
    """Whether a GET of ``path`` reaches one of the app's routes."""
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    return any(route.matches(scope)[0] is Match.FULL for route in app.router.routes)


def _page_paths(request: Request) -> frozenset[str]:
    paths: frozenset[str] | None = getattr(request.app.state, "panel_page_paths", None)
    if paths is None:
        every = {link.path for section in SECTIONS for link in section.links}
        paths = frozenset(p for p in every if has_page(request.app, p))
        request.app.state.panel_page_paths = paths
    return paths


def _is_active(link_path: str, current: str) -> bool:
    if link_path == "/":
        return current == "/"
    return current == link_path or current.startswith(link_path + "/")


def navigation(request: Request, viewer: Viewer | None) -> list[ShownSection]:
    """The sections and links ``viewer`` sees; nothing when nobody is logged in."""
    if viewer is None:
        return []
    pages = _page_paths(request)
    current = request.url.path
    shown = []
    for section in SECTIONS:
        links = [
            ShownLink(link.label, link.path, link.icon, _is_active(link.path, current))
            for link in section.links
            if link.path in pages and link.shown_to(viewer)
        ]
        if links:
            shown.append(ShownSection(section.title, links))
    return shown
