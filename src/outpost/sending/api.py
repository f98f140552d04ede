"""The Send API: ``POST /v1/send`` and ``POST /v1/send/bulk`` (Qboxmail wire format)."""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple, NoReturn

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import ClientDisconnect

from outpost.addresses import make_mailbox
from outpost.api.errors import request_id_of
from outpost.api.openapi import json_body
from outpost.db import utcnow
from outpost.errors import (
    FieldError,
    OutpostError,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from outpost.security import token_hash
from outpost.sending.api_messages import outgoing_message
from outpost.sending.bulk import MissingSubstitution, render
from outpost.sending.models import MessageSource
from outpost.sending.ratelimit import RateLimiter
from outpost.sending.responses import accepted_body
from outpost.sending.schemas import BulkMessage, BulkRequest, SendRequest
from outpost.sending.service import Sending
from outpost.sending.submission import AcceptRequest, Idempotency, OutgoingMessage

router = APIRouter(tags=["send"])

IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = IDEMPOTENCY_HEADER.lower().encode()  # as the ASGI scope spells it
MANAGEMENT_KEY_PREFIX = "opk_"


def _header(request: Request, name: bytes) -> str | None:
    """One request header (``name`` lower-case), read off the ASGI scope without a mapping."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _bearer(request: Request) -> str:
    header = _header(request, b"authorization") or ""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "Missing bearer token: send `Authorization: Bearer <Send API token>`.",
            code="missing_token",
        )
    if token.startswith(MANAGEMENT_KEY_PREFIX):
        raise Unauthorized(
            "This is a Management API key; the Send API needs a Send API token.",
            code="invalid_token",
        )
    return token


async def _read_body(request: Request, limit: int) -> bytes:
    declared = _header(request, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body exceeds {limit} bytes.", code="payload_too_large")
    chunks, size = [], 0
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"The request body exceeds {limit} bytes.", code="payload_too_large"
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _invalid(exc: ValidationError, *, prefix: str = "") -> ValidationFailed:
    errors = []
    for error in exc.errors():
        if error["type"] == "json_invalid":
            return ValidationFailed([FieldError("body", "is not valid JSON")], code="invalid_json")
        message = str(error["msg"]).removeprefix("Value error, ")
        errors.append(FieldError(prefix + _field(tuple(error["loc"])), message))
    return ValidationFailed(errors, code="invalid_message")


def _bare_request(request: Request, hashed_token: str) -> AcceptRequest:
    """The request as far as its credentials go, for refusing a payload found wrong."""
    return AcceptRequest(
        source=MessageSource.api,
        client_ip=_client_ip(request),
        request_id=request_id_of(request),
        messages=[],
        token_hash=hashed_token,
    )


async def _refuse(request: Request, hashed_token: str, error: OutpostError) -> NoReturn:
    """Raise ``error`` about the payload, unless the token or the client's IP is refused."""
    sending: Sending = request.app.state.sending
    await sending.refuse(_bare_request(request, hashed_token), error)


def _client_ip(request: Request) -> str:
    client = request.scope.get("client")
    return str(client[0]) if client else ""


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "send_rate_limiter", None)
    if limiter is None:
        settings = request.app.state.settings
        limiter = RateLimiter(settings.send_api_rate_limit, settings.send_api_rate_burst)
        request.app.state.send_rate_limiter = limiter
    return limiter


async def _accept(
    request: Request,
    prepared: Prepared,
    messages: list[OutgoingMessage],
    source: MessageSource,
) -> Response:
    key = _header(request, _IDEMPOTENCY_KEY)
    idempotency = None
    if key is not None:
        if not 1 <= len(key) <= 255:
            raise ValidationFailed.one(IDEMPOTENCY_HEADER, "must be 1 to 255 characters")
        idempotency = Idempotency(key=key, request_hash=hashlib.sha256(prepared.body).hexdigest())
    sending: Sending = request.app.state.sending
    result = await sending.accept(
        AcceptRequest(
            source=source,
            client_ip=_client_ip(request),
            request_id=request_id_of(request),
            messages=messages,
            token_hash=prepared.hashed_token,
            idempotency=idempotency,
        ),
        throttled=prepared.throttled,
    )
    return Response(
        orjson.dumps(accepted_body(result)), status_code=202, media_type="application/json"
    )


class Prepared(NamedTuple):
    """A Send API request before its payload is parsed."""

    hashed_token: str
    body: bytes
    throttled: RateLimited | None  # answered only if nothing before the rate limit refuses


async def _prepare(request: Request) -> Prepared:
    """The bearer token's hash, the request body and the rate limit's answer."""
    hashed = token_hash(_bearer(request))
    throttled = _limiter(request).take(hashed)
    try:
        body = await _read_body(request, request.app.state.settings.max_request_size)
    except PayloadTooLarge as error:
        await _refuse(request, hashed, error)
    return Prepared(hashed, body, throttled)


@router.post("/v1/send", status_code=202, openapi_extra=json_body(SendRequest))
async def send(request: Request) -> Response:
    """Queue one or more complete messages (up to 500)."""
    prepared = await _prepare(request)
    hashed_token = prepared.hashed_token
    try:
        payload = SendRequest.model_validate_json(prepared.body)
    except ValidationError as exc:
        if any(_no_messages(e) for e in exc.errors()):
            await _refuse(request, hashed_token, _missing_payload())
        await _refuse(request, hashed_token, _invalid(exc))
    if not payload.messages:
        await _refuse(request, hashed_token, _missing_payload())
    now = utcnow()
    messages = [outgoing_message(m, m.to, now=now) for m in payload.messages]
    return await _accept(request, prepared, messages, MessageSource.api)


def _no_messages(error: ErrorDetails) -> bool:
    """Whether pydantic's ``error`` says the body has no ``messages`` (absent or null)."""
    return error["loc"] == ("messages",) and (error["type"] == "missing" or error["input"] is None)


def _missing_payload() -> ValidationFailed:
    return ValidationFailed(
        [FieldError("messages", "Request body must include a non-empty `messages` array.")],
        code="missing_send_payload",
    )


@router.post("/v1/send/bulk", status_code=202, openapi_extra=json_body(BulkRequest))
async def send_bulk(request: Request) -> Response:
    """Queue one template rendered for each recipient (up to 500)."""
    prepared = await _prepare(request)
    hashed_token = prepared.hashed_token
    try:
        payload = BulkRequest.model_validate_json(prepared.body)
    except ValidationError as exc:
        await _refuse(request, hashed_token, _invalid(exc))
    try:
        messages = _render_bulk(payload)
    except ValidationFailed as error:
        await _refuse(request, hashed_token, error)
    return await _accept(request, prepared, messages, MessageSource.bulk)


def _render_bulk(payload: BulkRequest) -> list[OutgoingMessage]:
    now = utcnow()
    strict = payload.options.strict_substitutions
    template = {k: v for k, v in payload.message.items() if k != "to"}
    messages = []
    for index, recipient in enumerate(payload.recipients):
        where = f"recipients.{index}"
        try:
            mailbox = make_mailbox(recipient.email)
        except ValueError as exc:
            raise ValidationFailed.one(f"{where}.email", str(exc), code="invalid_message") from exc
        values = {**recipient.substitutions, "email": mailbox.address}
        try:
            rendered = render(template, values, strict=strict)
        except MissingSubstitution as missing:
            raise ValidationFailed.one(
                f"{where}.substitutions",
                f"has no value for {{{{{missing.variable}}}}} ({mailbox.address})",
                code="missing_substitution",
            ) from missing
        try:
            message = BulkMessage.model_validate(rendered)
        except ValidationError as exc:
            raise _invalid(exc, prefix="message.") from exc
        messages.append(outgoing_message(message, [mailbox], now=now))
    return messages
