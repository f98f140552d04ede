"""Typed dependencies every route uses: the database session and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.db import Database
from outpost.errors import Forbidden, Unauthorized
from outpost.pagination import PageParams
from outpost.tenancy.auth import authenticate_api_key, resume_web_session
from outpost.tenancy.scope import Caller

SESSION_COOKIE = "outpost_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

api_token_header = APIKeyHeader(name="X-Api-Token", auto_error=False)


def get_database(request: Request) -> Database:
    """The database the app was built with."""
    database: Database = request.app.state.db
    return database


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session committed when the route returns, before the response goes out."""
    with get_database(request).session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]


def get_caller(
    request: Request,
    session: DbSession,
    api_token: Annotated[str | None, Depends(api_token_header)],
) -> Caller:
    """The caller, by ``X-Api-Token`` or by panel session cookie (with CSRF on writes)."""
    if api_token:
        return authenticate_api_key(session=session, token=api_token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized("Missing X-Api-Token header.")
    caller, web_session, _user = resume_web_session(session=session, token=cookie)
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if sent != web_session.csrf_token:
            raise Forbidden("Missing or wrong CSRF token.")
    return caller


CurrentCaller = Annotated[Caller, Depends(get_caller, scope="function")]
Paging = Annotated[PageParams, Depends()]
