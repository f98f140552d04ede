"""The per-account suppression list: addresses sending skips."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from outpost.db import Base, enum_type, utcnow


class SuppressionReason(enum.StrEnum):
    """Why an address is on the list."""

    hard_bounce = "hard_bounce"
    complaint = "complaint"
    unsubscribe = "unsubscribe"
    manual = "manual"


class Suppression(Base):
    """A suppressed address of one account (stored lower-cased)."""

    __tablename__ = "suppressions"
    __table_args__ = (
        Index("uq_suppressions_account_address", "account_id", "address", unique=True),
        Index("ix_suppressions_account_created", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("delivery_accounts.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320))
    reason: Mapped[SuppressionReason] = mapped_column(enum_type(SuppressionReason))
    # What caused it: the bounce reply, a note given when adding it by hand, ...
    detail: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
