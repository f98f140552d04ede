"""The Send API served ahead of FastAPI's machinery: the hot path skips what it does not use.

FastAPI matches a request against every route, runs its middleware (error pages, body
limits, telemetry) and its dependency machinery; with the whole Management API
registered that costs several times what ``/v1/send`` itself does. ``OutpostApp`` asks
:func:`answer` first, which serves the Send API's two routes with the same endpoint
functions (they stay registered on the FastAPI router, so the OpenAPI schema documents
them) and leaves every other request to FastAPI.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from outpost.api.errors import error_response
from outpost.errors import OutpostError
from outpost.sending.api import send, send_bulk

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]
ROUTES: dict[str, Endpoint] = {"/v1/send": send, "/v1/send/bulk": send_bulk}


async def answer(scope: Scope, receive: Receive, send_: Send) -> bool:
    """Serve ``POST /v1/send`` and ``POST /v1/send/bulk``; False for any other request."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    endpoint = ROUTES.get(scope["path"])
    if endpoint is None:
        return False
    request = Request(scope, receive)
    try:
        response = await endpoint(request)
    except OutpostError as error:
        response = error_response(request, error)
    except Exception:
        log.exception("Send API request failed")
        response = error_response(
            request,
            OutpostError("Internal error; nothing was accepted.", code="internal_error"),
            500,
        )
    await response(scope, receive, send_)
    return True
