"""The panel's cookies: the session, flash messages and the login form's CSRF token.

Every cookie is HttpOnly and SameSite=Lax, and Secure when the panel is served over https.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Literal

from fastapi import Request, Response

from outpost.api.deps import SESSION_COOKIE
from outpost.config import Settings
from outpost.tenancy.auth import SESSION_LIFETIME

FLASH_COOKIE = "outpost_flash"
LOGIN_CSRF_COOKIE = "outpost_login_csrf"

FlashLevel = Literal["success", "error", "info"]
FLASH_LEVELS: frozenset[str] = frozenset({"success", "error", "info"})


@dataclass(frozen=True)
class Flash:
    """A one-time message shown on the next page: what happened after a form was sent."""

    level: FlashLevel
    text: str


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _secure(request: Request) -> bool:
    return _settings(request).resolved_public_url().startswith("https://")


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    """Set one of the panel's cookies with the flags every panel cookie carries."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    """Remove one of the panel's cookies."""
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=_secure(request))


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """Keep the panel session for as long as it lives on the server."""
    set_cookie(request, response, SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds()))


def _flash_key(request: Request) -> bytes:
    secret = _settings(request).installation_secret().encode()
    return hmac.new(secret, b"outpost panel flash messages v1", hashlib.sha256).digest()


def _sign(request: Request, payload: bytes) -> str:
    return hmac.new(_flash_key(request), payload, hashlib.sha256).hexdigest()


def add_flash(request: Request, response: Response, level: FlashLevel, text: str) -> None:
    """Show ``text`` on the next page the browser renders (signed, so nobody else writes it)."""
    payload = base64.urlsafe_b64encode(json.dumps([[level, text]]).encode())
    set_cookie(request, response, FLASH_COOKIE, f"{payload.decode()}.{_sign(request, payload)}", 60)


def read_flashes(request: Request) -> list[Flash]:
    """The messages waiting for this request; empty when none or when the signature is wrong."""
    raw = request.cookies.get(FLASH_COOKIE, "")
    payload, _, signature = raw.partition(".")
    if not payload or not hmac.compare_digest(signature, _sign(request, payload.encode())):
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(payload.encode()))
        return [Flash(level, str(text)) for level, text in items if level in FLASH_LEVELS]
    except (ValueError, TypeError):
        return []
