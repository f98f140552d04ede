"""Errors on panel paths as HTML: a login redirect, or a page in the panel's layout."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, Response

from outpost.api.deps import SESSION_COOKIE
from outpost.errors import OutpostError, Unauthorized
from outpost.web.cookies import add_flash, clear_cookie
from outpost.web.deps import get_viewer
from outpost.web.render import redirect, render, viewer_of

_TITLES = {
    400: "Bad request",
    403: "Access denied",
    404: "Page not found",
    405: "Not allowed",
    409: "Cannot do that",
    413: "Too large",
    422: "Invalid request",
    429: "Too many requests",
}
_NOT_FOUND = (
    "The page you asked for does not exist, or it belongs to an organization you cannot see."
)


def _login_redirect(request: Request, error: Unauthorized) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    login = "/login" if request.method != "GET" or target == "/" else f"/login?next={quote(target)}"
    response = redirect(request, login)
    if SESSION_COOKIE in request.cookies:
        clear_cookie(request, response, SESSION_COOKIE)
        add_flash(request, response, "info", error.message)
    return response


def _resume_viewer(request: Request) -> None:
    # Only for requests no route took (unknown paths): no session of the request is open.
    if "endpoint" in request.scope or SESSION_COOKIE not in request.cookies:
        return
    database = request.app.state.db
    try:
        with database.session() as session:
            get_viewer(request, session)
    except OutpostError:
        return


def error_page(request: Request, error: OutpostError, status: int) -> Response:
    """The HTML answer to ``error`` for a panel path."""
    if isinstance(error, Unauthorized):
        return _login_redirect(request, error)
    if viewer_of(request) is None:
        _resume_viewer(request)
    message = _NOT_FOUND if status == 404 else error.message
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title": _TITLES.get(status, "Something went wrong"),
            "message": message,
        },
        status_code=status,
    )
