"""Logging in and out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.datastructures import FormData

from outpost.api.deps import SESSION_COOKIE, DbSession
from outpost.errors import Unauthorized
from outpost.security import constant_time_equals
from outpost.tenancy.auth import authenticate_password, end_web_session, start_web_session
from outpost.throttle import FailedLogins
from outpost.web.cookies import LOGIN_CSRF_COOKIE, clear_cookie, set_cookie, set_session_cookie
from outpost.web.deps import PostedForm
from outpost.web.forms import raw, text
from outpost.web.render import redirect, render

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only, never another host."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _login_page(
    request: Request, *, next_url: str, email: str = "", error: str = "", status_code: int = 200
) -> Response:
    # Double-submit token: a login form posted from another site cannot know it.
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        {"next": next_url, "email": email, "error": error, "login_csrf": token},
        status_code=status_code,
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


def _throttle_keys(request: Request, email: str) -> list[str]:
    """Failed logins count against the client's address and against the e-mail tried."""
    address = request.client.host if request.client else "unknown"
    return [f"ip:{address}", f"email:{email.lower()}"]


async def _login_form(request: Request) -> FormData:
    return await request.form()


@router.get("/login")
def login_page(request: Request, next_url: Annotated[str, Query(alias="next")] = "/") -> Response:
    """The login form."""
    return _login_page(request, next_url=safe_next(next_url))


@router.post("/login")
def log_in(
    request: Request, session: DbSession, form: Annotated[FormData, Depends(_login_form)]
) -> Response:
    """Check the credentials, start a session and go where the user was heading."""
    next_url, email = safe_next(text(form, "next")), text(form, "email")
    cookie, sent = request.cookies.get(LOGIN_CSRF_COOKIE, ""), text(form, "login_csrf")
    if not cookie or not constant_time_equals(cookie, sent):
        error = "The login form expired. Please try again."
        return _login_page(request, next_url=next_url, email=email, error=error, status_code=403)
    failures: FailedLogins = request.app.state.panel_login_failures
    keys = _throttle_keys(request, email)
    if wait := failures.wait_seconds(keys):
        minutes = -(-wait // 60)
        error = f"Too many failed logins. Try again in {minutes} minute{'s' * (minutes > 1)}."
        response = _login_page(
            request, next_url=next_url, email=email, error=error, status_code=429
        )
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        user = authenticate_password(session=session, email=email, password=raw(form, "password"))
    except Unauthorized as exc:
        failures.record(keys)
        return _login_page(
            request, next_url=next_url, email=email, error=exc.message, status_code=401
        )
    if previous := request.cookies.get(SESSION_COOKIE):
        end_web_session(session=session, token=previous)
    token, _web_session = start_web_session(session=session, user=user)
    response = redirect(request, next_url)
    set_session_cookie(request, response, token)
    clear_cookie(request, response, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def log_out(request: Request, session: DbSession, _form: PostedForm) -> Response:
    """End the session and forget the cookie."""
    end_web_session(session=session, token=request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(request, "/login", flash="You have been logged out.", level="info")
    clear_cookie(request, response, SESSION_COOKIE)
    return response
