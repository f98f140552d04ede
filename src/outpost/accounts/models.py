"""Delivery accounts: one sending identity of a customer, with its plan and quota."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from outpost.db import Base, enum_type, utcnow


class AccountType(enum.StrEnum):
    """What kind of mail the account sends; Qboxmail's ``newsletter`` is ``promotional``."""

    transactional = "transactional"
    promotional = "promotional"


class AccountStatus(enum.StrEnum):
    """Whether the account may send."""

    awaiting_payment = "awaiting_payment"
    enabled = "enabled"
    disabled = "disabled"
    blocked = "blocked"


class PaymentMethod(enum.StrEnum):
    """How a paid account's invoices are settled."""

    card_auto = "card_auto"
    paypal_auto = "paypal_auto"
    paypal_manual = "paypal_manual"


class DeliveryAccount(Base):
    """A delivery account.

    ``remaining`` always equals ``plan_messages - used + extra_messages - extra_used``;
    it is stored so lists can filter and sort on it, and every quota change updates it in
    the same statement. No index holds it (migration 0003), so a reservation on PostgreSQL
    is a HOT update; the price is that sorting a large list by it scans the rows.
    """

    __tablename__ = "delivery_accounts"
    __table_args__ = (
        Index("ix_delivery_accounts_org_status", "org_id", "status", "id"),
        # Counts of the accounts list filtered by plan and type (and status) without rows.
        Index("ix_delivery_accounts_plan_type", "plan_id", "type", "status"),
        # Text search of the accounts list: trigrams on PostgreSQL (ILIKE '%…%'); on SQLite a
        # narrow covering index that LIKE '%…%' scans instead of the whole table.
        Index(
            "ix_delivery_accounts_search",
            "description",
            "username",
            postgresql_using="gin",
            postgresql_ops={"description": "gin_trgm_ops", "username": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    description: Mapped[str] = mapped_column(String(200))
    type: Mapped[AccountType] = mapped_column(enum_type(AccountType))
    username: Mapped[str] = mapped_column(String(32), unique=True)
    smtp_password_hash: Mapped[str] = mapped_column(String(200))
    status: Mapped[AccountStatus] = mapped_column(enum_type(AccountStatus))
    # Where an unblocked account goes back to.
    status_before_block: Mapped[AccountStatus | None] = mapped_column(enum_type(AccountStatus))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    payment_method: Mapped[PaymentMethod | None] = mapped_column(enum_type(PaymentMethod))

    plan_messages: Mapped[int] = mapped_column(default=0)
    used: Mapped[int] = mapped_column(default=0)
    extra_messages: Mapped[int] = mapped_column(default=0)
    extra_used: Mapped[int] = mapped_column(default=0)
    remaining: Mapped[int] = mapped_column(default=0)
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    extra_expires_at: Mapped[datetime | None]

    bounce_alert_email: Mapped[str | None] = mapped_column(String(320))
    suppression_enabled: Mapped[bool] = mapped_column(default=True)
    ip_allowlist: Mapped[list[str]] = mapped_column(JSON, default=list)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
