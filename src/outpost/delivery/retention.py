"""Retention: message content goes after a while; messages, recipients and events stay longer;
``Idempotency-Key`` records go once their window is over."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.db import utcnow
from outpost.events.models import Event
from outpost.sending.models import DUE_STATUSES, IdempotencyRecord, Message, MessageBody, Recipient
from outpost.sending.pipeline import IDEMPOTENCY_WINDOW

# Deleting in slices keeps each transaction (and SQLite's write lock) short.
SLICE = 5000


def purge_message_bodies(*, session: Session, settings: Settings) -> int:
    """Delete stored content older than ``message_body_retention_days``; never of mail still due."""
    cutoff = utcnow() - timedelta(days=settings.message_body_retention_days)
    still_due = exists().where(
        Recipient.message_id == MessageBody.message_id, Recipient.status.in_(DUE_STATUSES)
    )
    old = (
        select(MessageBody.message_id)
        .join(Message, Message.id == MessageBody.message_id)
        .where(Message.created_at < cutoff, ~still_due)
        .limit(SLICE)
    )
    ids = list(session.scalars(old))
    if ids:
        session.execute(delete(MessageBody).where(MessageBody.message_id.in_(ids)))
    return len(ids)


def purge_events(*, session: Session, settings: Settings) -> int:
    """Delete events older than ``event_retention_days`` (their webhook deliveries go too)."""
    cutoff = utcnow() - timedelta(days=settings.event_retention_days)
    ids = list(session.scalars(select(Event.id).where(Event.created_at < cutoff).limit(SLICE)))
    if ids:
        session.execute(delete(Event).where(Event.id.in_(ids)))
    return len(ids)


def purge_idempotency_records(*, session: Session) -> int:
    """Delete ``Idempotency-Key`` records older than their 24-hour window: past it a key
    is new again, and the record would only take room."""
    cutoff = utcnow() - IDEMPOTENCY_WINDOW
    old = select(IdempotencyRecord.id).where(IdempotencyRecord.created_at < cutoff).limit(SLICE)
    ids = list(session.scalars(old))
    if ids:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(ids)))
    return len(ids)
