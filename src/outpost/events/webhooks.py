"""Webhooks: each event queued for the account's endpoints, POSTed signed, retried.

A delivery is a JSON POST with ``X-Outpost-Timestamp`` and ``X-Outpost-Signature:
sha256=<hex HMAC-SHA256 over "<timestamp>.<body>">``; receivers recompute it with their
secret and reject old timestamps. Failed posts are retried with exponential back-off up
to ``webhook_max_attempts``; every attempt's answer is kept in the delivery log. Posts go
only to public addresses (``egress``) over a connection pinned to the vetted address, and
redirects are not followed (``pinned_http``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import http.client
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update

from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.events import pinned_http
from outpost.events.egress import AddressRefused, vetted_addresses
from outpost.events.models import Event, Webhook, WebhookDelivery
from outpost.security import decrypt_secret
from outpost.sending.models import Message

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Outpost-Signature"
TIMESTAMP_HEADER = "X-Outpost-Timestamp"
BATCH_SIZE = 50
LEASE = timedelta(minutes=5)
_DUE = text("webhook_deliveries.status = 'pending'")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for one POST."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def event_payload(event: Event, message_id: str | None) -> dict[str, Any]:
    """The JSON an endpoint receives for one event."""
    return {
        "id": event.id,
        "type": event.type.value,
        "created_at": event.created_at.isoformat(),
        "account_id": event.account_id,
        "recipient": event.address,
        "message_id": message_id,
        "details": event.details,
    }


@dataclass(frozen=True)
class _Post:
    delivery_id: int
    url: str
    secret: str
    body: bytes
    event_type: str
    attempts: int


@dataclass(frozen=True)
class _Answer:
    delivery_id: int
    attempts: int
    status: int | None
    body: str


class WebhookSender:
    """Claims due webhook deliveries and POSTs them."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.secret = settings.installation_secret()

    def claim(self) -> list[_Post]:
        """Claim due deliveries (pushing them a lease ahead) and build their requests."""
        now = utcnow()
        with self.database.session() as session:
            due = (
                select(WebhookDelivery.id)
                .where(_DUE, WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(BATCH_SIZE)
                .with_for_update(skip_locked=True)
                .cte("due")
            )
            ids = list(
                session.scalars(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == due.c.id)
                    .values(next_attempt_at=now + LEASE)
                    .returning(WebhookDelivery.id)
                    .execution_options(synchronize_session=False)
                )
            )
            if not ids:
                return []
            rows = session.execute(
                select(WebhookDelivery, Webhook, Event, Message.message_id)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .join(Event, Event.id == WebhookDelivery.event_id)
                .outerjoin(Message, Message.id == Event.message_id)
                .where(WebhookDelivery.id.in_(ids))
            ).all()
            return [
                _Post(
                    delivery_id=delivery.id,
                    url=hook.url,
                    secret=decrypt_secret(self.secret, hook.secret),
                    body=json.dumps(event_payload(event, message_id)).encode(),
                    event_type=event.type.value,
                    attempts=delivery.attempts,
                )
                for delivery, hook, event, message_id in rows
            ]

    def post(self, item: _Post) -> _Answer:
        """One signed POST; any answer, refusal or error is kept."""
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Outpost-Webhooks/1",
            "X-Outpost-Event": item.event_type,
            "X-Outpost-Delivery": str(item.delivery_id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(item.secret, timestamp, item.body),
        }
        attempts = item.attempts + 1
        try:
            target = pinned_http.Target.parse(item.url)
            addresses = vetted_addresses(
                target.host,
                target.port,
                allow_private=self.settings.webhook_allow_private_addresses,
            )
            reply = pinned_http.post(
                target,
                addresses,
                body=item.body,
                headers=headers,
                timeout=self.settings.webhook_timeout_seconds,
            )
        except (AddressRefused, OSError, http.client.HTTPException, ValueError) as exc:
            return _Answer(item.delivery_id, attempts, None, str(exc)[:1000])
        body = reply.body.decode("utf-8", "replace")
        return _Answer(item.delivery_id, attempts, reply.status, body)

    def record(self, answers: Sequence[_Answer]) -> None:
        """Store each answer: delivered, retried later, or failed for good."""
        now = utcnow()
        with self.database.session() as session:
            for answer in answers:
                values: dict[str, Any] = {
                    "attempts": answer.attempts,
                    "response_status": answer.status,
                    "response_body": answer.body,
                }
                if answer.status is not None and 200 <= answer.status < 300:
                    values |= {"status": "delivered", "delivered_at": now}
                elif answer.attempts >= self.settings.webhook_max_attempts:
                    values |= {"status": "failed"}
                else:
                    values |= {"next_attempt_at": self._next_attempt(now, answer.attempts)}
                session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == answer.delivery_id)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )

    def _next_attempt(self, now: datetime, attempts: int) -> datetime:
        seconds = self.settings.webhook_retry_base_seconds * 2 ** (attempts - 1)
        return now + timedelta(seconds=min(seconds, 6 * 3600))

    async def send_due(self) -> int:
        """Claim one batch, post it concurrently, record the answers; how many were sent."""
        posts = await asyncio.to_thread(self.claim)
        if not posts:
            return 0
        answers = await asyncio.gather(*(asyncio.to_thread(self.post, p) for p in posts))
        await asyncio.to_thread(self.record, answers)
        return len(posts)

    async def drain(self) -> int:
        """Send until nothing is due."""
        total = 0
        while sent := await self.send_due():
            total += sent
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Send due deliveries until ``stop``."""
        while not stop.is_set():
            try:
                sent = await self.send_due()
            except Exception:
                log.exception("sending webhooks failed")
                sent = 0
            if sent < BATCH_SIZE:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
