"""The plan catalog the operator sells."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from outpost.db import Base, enum_type, utcnow

MAX_DOMAINS_PER_ACCOUNT = 250


class PlanKind(enum.StrEnum):
    """How a plan is paid and when its messages run out."""

    free = "free"
    subscription = "subscription"
    prepaid = "prepaid"


class Plan(Base):
    """A plan: its message tiers and prices, domain limit and sending rate."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[PlanKind] = mapped_column(enum_type(PlanKind))
    # [{"messages": 10000, "price_cents": 1000}, ...] in ascending order of messages.
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    max_domains: Mapped[int] = mapped_column(default=1)
    send_rate_per_hour: Mapped[int] = mapped_column(default=1000)
    extra_price_per_1000_cents: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
