"""Retention: message content goes after a while; messages, recipients and events stay longer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.db import utcnow
from outpost.events.models import Event
from outpost.sending.models import DUE_STATUSES, Message, MessageBody, Recipient

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
