"""What happened to each recipient, daily counters, and webhooks that report it."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from outpost.db import Base, BigId, enum_type, utcnow


class EventType(enum.StrEnum):
    """A step in a recipient's life."""

    accepted = "accepted"
    suppressed = "suppressed"
    deferred = "deferred"
    delivered = "delivered"
    bounced = "bounced"
    expired = "expired"
    complaint = "complaint"


class Event(Base):
    """One event of one recipient (the message log)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("delivery_accounts.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[EventType] = mapped_column(enum_type(EventType))
    address: Mapped[str] = mapped_column(String(320), default="")
    # code, enhanced_code, reply, remote_host, bounce_kind, attempt, ...
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DailyStats(Base):
    """Per-account counters for one UTC day."""

    __tablename__ = "daily_stats"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("delivery_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(default=0)
    delivered: Mapped[int] = mapped_column(default=0)
    deferred: Mapped[int] = mapped_column(default=0)
    bounced: Mapped[int] = mapped_column(default=0)
    suppressed: Mapped[int] = mapped_column(default=0)
    expired: Mapped[int] = mapped_column(default=0)


class Webhook(Base):
    """An endpoint that receives an account's events, signed with its secret."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("delivery_accounts.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(Text)  # encrypted with the installation secret
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One attempt history of posting one event to one webhook."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
