"""Delivery accounts: one sending identity of a customer, with its plan and quota."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Computed, ForeignKey, Index, String
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


# SQLite only: the FTS5 trigram index of description and username, kept by triggers. No
# model maps it; Alembic's comparisons skip it and its shadow tables (outpost.models).
SEARCH_TABLE = "delivery_accounts_search"


class DeliveryAccount(Base):
    """A delivery account.

    ``remaining`` always equals ``plan_messages - used + extra_messages - extra_used``;
    it is stored so lists can filter and sort on it, and every quota change updates it in
    the same statement. No index holds it, so a reservation on PostgreSQL is a HOT update
    (migration 0003). Lists sort and filter through ``remaining_thousands`` instead: a
    generated column that changes once per thousand messages, so only one reservation in
    a thousand touches its indexes (migration 0004).
    """

    __tablename__ = "delivery_accounts"
    __table_args__ = (
        Index("ix_delivery_accounts_org_status", "org_id", "status", "id"),
        # Counts of the accounts list filtered by plan and type (and status) without rows.
        Index("ix_delivery_accounts_plan_type", "plan_id", "type", "status"),
        # Sorting and range filters on remaining, with and without the status filter, and
        # the per-status counts.
        Index("ix_delivery_accounts_remaining", "remaining_thousands"),
        Index("ix_delivery_accounts_status_remaining", "status", "remaining_thousands"),
        Index("ix_delivery_accounts_description", "description", "id"),
        # Text search of the accounts list: trigrams on PostgreSQL (ILIKE '%…%'); on SQLite a
        # narrow covering index that LIKE '%…%' scans for searches too short for the FTS5
        # trigram table (SEARCH_TABLE, migration 0005).
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
    # Stored on PostgreSQL, whose indexes need that; migration 0004 adds it as virtual on
    # SQLite, which cannot add a stored column to a table and whose indexes keep a copy.
    remaining_thousands: Mapped[int] = mapped_column(Computed("remaining / 1000", persisted=True))
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    extra_expires_at: Mapped[datetime | None]

    bounce_alert_email: Mapped[str | None] = mapped_column(String(320))
    suppression_enabled: Mapped[bool] = mapped_column(default=True)
    ip_allowlist: Mapped[list[str]] = mapped_column(JSON, default=list)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
