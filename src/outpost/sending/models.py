"""Accepted mail: messages, their stored content, their recipients, idempotency records."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from outpost.db import Base, BigId, enum_type, utcnow


class MessageSource(enum.StrEnum):
    """Which door a message came in through."""

    smtp = "smtp"
    api = "api"
    bulk = "bulk"
    campaign = "campaign"
    system = "system"


class BodyFormat(enum.StrEnum):
    """How a message's content is stored: ready MIME, or the Send API's JSON to compose later."""

    mime = "mime"
    api_json = "api_json"


class RecipientStatus(enum.StrEnum):
    """Where one recipient of a message is in its delivery."""

    queued = "queued"
    deferred = "deferred"
    delivered = "delivered"
    bounced = "bounced"
    suppressed = "suppressed"
    expired = "expired"


DUE_STATUSES = (RecipientStatus.queued, RecipientStatus.deferred)


class Message(Base):
    """One accepted message of a delivery account."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("delivery_accounts.id", ondelete="CASCADE"))
    source: Mapped[MessageSource] = mapped_column(enum_type(MessageSource))
    request_id: Mapped[str] = mapped_column(String(36))
    # The Message-ID header's value without angle brackets.
    message_id: Mapped[str] = mapped_column(String(255), index=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    sender_domain_id: Mapped[int | None] = mapped_column(
        ForeignKey("domains.id", ondelete="SET NULL")
    )
    subject: Mapped[str] = mapped_column(String(1000), default="")
    size: Mapped[int]
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageBody(Base):
    """The content of a message, kept apart so retention can purge it and keep the rest."""

    __tablename__ = "message_bodies"

    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    format: Mapped[BodyFormat] = mapped_column(enum_type(BodyFormat))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Recipient(Base):
    """One recipient of a message: the unit of delivery, retry and outcome.

    A worker claims a recipient by pushing ``next_attempt_at`` to the end of its lease, so
    a crashed worker's claims simply fall due again.
    """

    __tablename__ = "recipients"
    __table_args__ = (
        Index(
            "ix_recipients_due",
            "next_attempt_at",
            sqlite_where=text("status IN ('queued', 'deferred')"),
            postgresql_where=text("status IN ('queued', 'deferred')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int]  # not indexed: an account's recipients are reached by message
    address: Mapped[str] = mapped_column(String(320))
    domain: Mapped[str] = mapped_column(String(253))
    status: Mapped[RecipientStatus] = mapped_column(enum_type(RecipientStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    remote_host: Mapped[str | None] = mapped_column(String(253))
    smtp_code: Mapped[int | None]
    enhanced_code: Mapped[str | None] = mapped_column(String(16))
    reply: Mapped[str | None] = mapped_column(Text)
    bounce_kind: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


IDEMPOTENCY_INDEX = "uq_idempotency_account_key"


class IdempotencyRecord(Base):
    """The first answer to a Send API request made with an ``Idempotency-Key``."""

    __tablename__ = "idempotency_records"
    __table_args__ = (Index(IDEMPOTENCY_INDEX, "account_id", "key", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("delivery_accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
