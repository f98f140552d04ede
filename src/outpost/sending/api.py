"""The Send API: ``POST /v1/send`` and ``POST /v1/send/bulk`` (Qboxmail wire format)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from outpost.addresses import make_mailbox
from outpost.api.errors import request_id_of
from outpost.api.openapi import json_body
from outpost.db import Database, utcnow
from outpost.errors import (
    FieldError,
    OutpostError,
    PayloadTooLarge,
    Unauthorized,
    ValidationFailed,
)
from outpost.fastsql import Driver
from outpost.security import token_hash
from outpost.sending.api_messages import outgoing_message
from outpost.sending.bulk import MissingSubstitution, render
from outpost.sending.models import MessageSource
from outpost.sending.pipeline import Job, check_account_enabled, check_ip_allowed, load_senders
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


def _credential_problem(
    database: Database, hashed_token: str, client_ip: str
) -> OutpostError | None:
    """Token and IP policy come before payload errors; check them when the payload is bad."""
    request = AcceptRequest(
        source=MessageSource.api,
        client_ip=client_ip,
        request_id="",
        messages=[],
        token_hash=hashed_token,
    )
    jobs = [Job(request=request)]
    with database.read_engine.connect() as conn:
        driver = Driver(conn)
        for step in (load_senders, check_account_enabled, check_ip_allowed):
            step(driver, jobs, utcnow())
    return jobs[0].error


async def _raise_invalid(request: Request, hashed_token: str, error: ValidationFailed) -> None:
    problem = await asyncio.to_thread(
        _credential_problem, request.app.state.db, hashed_token, _client_ip(request)
    )
    raise problem or error


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
    hashed_token: str,
    body: bytes,
    messages: list[OutgoingMessage],
    source: MessageSource,
) -> Response:
    key = _header(request, _IDEMPOTENCY_KEY)
    idempotency = None
    if key is not None:
        if not 1 <= len(key) <= 255:
            raise ValidationFailed.one(IDEMPOTENCY_HEADER, "must be 1 to 255 characters")
        idempotency = Idempotency(key=key, request_hash=hashlib.sha256(body).hexdigest())
    sending: Sending = request.app.state.sending
    result = await sending.accept(
        AcceptRequest(
            source=source,
            client_ip=_client_ip(request),
            request_id=request_id_of(request),
            messages=messages,
            token_hash=hashed_token,
            idempotency=idempotency,
        )
    )
    return Response(
        orjson.dumps(accepted_body(result)), status_code=202, media_type="application/json"
    )


async def _prepare(request: Request) -> tuple[str, bytes]:
    """The bearer token's hash (after the rate limit) and the request body."""
    hashed = token_hash(_bearer(request))
    _limiter(request).check(hashed)
    body = await _read_body(request, request.app.state.settings.max_request_size)
    return hashed, body


@router.post("/v1/send", status_code=202, openapi_extra=json_body(SendRequest))
async def send(request: Request) -> Response:
    """Queue one or more complete messages (up to 500)."""
    hashed_token, body = await _prepare(request)
    try:
        payload = SendRequest.model_validate_json(body)
    except ValidationError as exc:
        if any(e["loc"] == ("messages",) and e["type"] == "missing" for e in exc.errors()):
            await _raise_invalid(request, hashed_token, _missing_payload())
        await _raise_invalid(request, hashed_token, _invalid(exc))
        raise
    if not payload.messages:
        await _raise_invalid(request, hashed_token, _missing_payload())
    now = utcnow()
    messages = [outgoing_message(m, m.to, now=now) for m in payload.messages]
    return await _accept(request, hashed_token, body, messages, MessageSource.api)


def _missing_payload() -> ValidationFailed:
    return ValidationFailed(
        [FieldError("messages", "Request body must include a non-empty `messages` array.")],
        code="missing_send_payload",
    )


@router.post("/v1/send/bulk", status_code=202, openapi_extra=json_body(BulkRequest))
async def send_bulk(request: Request) -> Response:
    """Queue one template rendered for each recipient (up to 500)."""
    hashed_token, body = await _prepare(request)
    try:
        payload = BulkRequest.model_validate_json(body)
    except ValidationError as exc:
        await _raise_invalid(request, hashed_token, _invalid(exc))
        raise
    try:
        messages = _render_bulk(payload)
    except ValidationFailed as error:
        await _raise_invalid(request, hashed_token, error)
        raise
    return await _accept(request, hashed_token, body, messages, MessageSource.bulk)


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
