"""Map Outpost errors once to HTTP: the Qboxmail management shape, or the Send API shape."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from outpost.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    OutpostError,
    PayloadTooLarge,
    QuotaExceeded,
    RateLimited,
    Unauthorized,
    Unavailable,
    Unprocessable,
    ValidationFailed,
)
from outpost.message_ids import uuid7

log = logging.getLogger(__name__)

SEND_API_PREFIX = "/v1/"
API_PREFIXES = ("/api/", SEND_API_PREFIX)

# Renders an error as an HTML page for control-panel paths: (request, error, HTTP status).
HtmlErrorPage = Callable[[Request, OutpostError, int], Response]

_STATUS: list[tuple[type[OutpostError], int, str]] = [
    (Unauthorized, 401, "Unauthorized"),
    (Forbidden, 403, "Forbidden"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict"),
    (PayloadTooLarge, 413, "Payload too large"),
    (Unprocessable, 422, "Unprocessable"),
    (ValidationFailed, 422, "Validation failed"),
    (QuotaExceeded, 429, "Too many requests"),
    (RateLimited, 429, "Too many requests"),
    (Unavailable, 503, "Service unavailable"),
]


def status_of(error: OutpostError) -> tuple[int, str]:
    """The HTTP status and its Qboxmail title for an error."""
    for cls, status, title in _STATUS:
        if isinstance(error, cls):
            return status, title
    return 400, "Bad request"


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def field_errors(exc: RequestValidationError) -> list[FieldError]:
    """Pydantic's errors as ``{field, description}`` pairs."""
    errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            errors.append(FieldError("body", "is not valid JSON"))
        else:
            errors.append(FieldError(_location(tuple(err.get("loc", ()))), str(err.get("msg"))))
    return errors


def management_body(
    title: str, errors: list[FieldError], detail: str | None = None
) -> dict[str, Any]:
    """The management API error body."""
    body: dict[str, Any] = {
        "message": title,
        "errors": [{"field": e.field, "description": e.description} for e in errors],
    }
    if detail:
        body["detail"] = detail
    return body


def send_body(status: int, error: str, message: str, request_id: str) -> dict[str, Any]:
    """The Send API error body (``error_code`` equals the HTTP status)."""
    return {"error_code": status, "message": message, "error": error, "request_id": request_id}


def request_id_of(request: Request) -> str:
    """The request's id, made once and shared by every answer about it."""
    rid: str | None = request.scope.get("outpost.request_id")
    if rid is None:
        rid = request.scope["outpost.request_id"] = uuid7()
    return rid


def is_api_path(path: str) -> bool:
    """Whether ``path`` belongs to an API (JSON errors) rather than the control panel (HTML)."""
    return path.startswith(API_PREFIXES) or path in {"/api", "/v1"}


def _headers(error: OutpostError) -> dict[str, str] | None:
    if isinstance(error, RateLimited):
        return {"Retry-After": str(error.retry_after)}
    return None


def error_response(
    request: Request, error: OutpostError, status: int | None = None
) -> JSONResponse:
    """The wire form of ``error`` for the API the request went to; ``status`` overrides
    the one the error's class maps to (and the Send API body's ``error_code`` with it)."""
    mapped, title = status_of(error)
    status = status or mapped
    if request.url.path.startswith(SEND_API_PREFIX):
        # The Send API answers bad input with 400 (Qboxmail); 422 is kept for Unprocessable.
        if isinstance(error, ValidationFailed):
            status = 400
        body = send_body(status, error.code, error.message, request_id_of(request))
        return JSONResponse(body, status_code=status, headers=_headers(error))
    errors = error.errors if isinstance(error, ValidationFailed) else []
    detail = None if isinstance(error, ValidationFailed) else error.message
    return JSONResponse(
        management_body(title, errors, detail), status_code=status, headers=_headers(error)
    )


def install_error_handlers(app: FastAPI, html_page: HtmlErrorPage | None = None) -> None:
    """Register the one mapping from errors to responses (HTML pages outside the APIs)."""

    def respond(request: Request, error: OutpostError, status: int | None = None) -> Response:
        if html_page is not None and not is_api_path(request.url.path):
            return html_page(request, error, status or status_of(error)[0])
        return error_response(request, error, status)

    async def on_outpost_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OutpostError)  # noqa: S101 - registered for this type only
        return respond(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        errors = field_errors(exc)
        if request.url.path.startswith(SEND_API_PREFIX):
            invalid_json = any(e.description == "is not valid JSON" for e in errors)
            failure = ValidationFailed(
                errors, code="invalid_json" if invalid_json else "invalid_request"
            )
            return error_response(request, failure)
        return respond(request, ValidationFailed(errors))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101
        mapped: OutpostError
        if exc.status_code == 404:
            mapped = NotFound("No such endpoint.")
        elif exc.status_code == 405:
            mapped = OutpostError("Method not allowed.", code="method_not_allowed")
        else:
            mapped = OutpostError(str(exc.detail), code="http_error")
        return respond(request, mapped, None if exc.status_code == 404 else exc.status_code)

    app.add_exception_handler(OutpostError, on_outpost_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
