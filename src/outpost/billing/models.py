"""Orders: what a customer asked to buy and whether it was paid."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from outpost.accounts.models import PaymentMethod
from outpost.db import Base, enum_type, utcnow


class OrderKind(enum.StrEnum):
    """What an order buys."""

    new_account = "new_account"
    plan_change = "plan_change"
    prepaid_topup = "prepaid_topup"
    extra_messages = "extra_messages"
    renewal = "renewal"


class OrderStatus(enum.StrEnum):
    """Where an order is in its life."""

    pending = "pending"
    paid = "paid"
    cancelled = "cancelled"


class Order(Base):
    """An order for a delivery account; applied to the account when marked paid."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_org_status", "org_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_accounts.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[OrderKind] = mapped_column(enum_type(OrderKind))
    status: Mapped[OrderStatus] = mapped_column(enum_type(OrderStatus), default=OrderStatus.pending)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    messages: Mapped[int]
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[PaymentMethod | None] = mapped_column(enum_type(PaymentMethod))
    description: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
