"""Sending domains, their DKIM keys and DNS checks, and their association with accounts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from outpost.db import Base, enum_type, utcnow


class DomainStatus(enum.StrEnum):
    """Overall DNS state: ``pending`` until first verified, ``failing`` when a check breaks."""

    pending = "pending"
    verified = "verified"
    failing = "failing"


class Domain(Base):
    """A customer's sending domain, its DKIM keys (private parts encrypted) and DNS checks."""

    __tablename__ = "domains"
    __table_args__ = (
        Index("uq_domains_org_name", "org_id", "name", unique=True),
        # A name verified by one customer cannot be verified by another.
        Index(
            "uq_domains_verified_name",
            "name",
            unique=True,
            sqlite_where=text("verified_at IS NOT NULL"),
            postgresql_where=text("verified_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(253))
    status: Mapped[DomainStatus] = mapped_column(
        enum_type(DomainStatus), default=DomainStatus.pending
    )
    verification_token: Mapped[str] = mapped_column(String(64))
    dkim_selector: Mapped[str] = mapped_column(String(63))
    dkim_private_key: Mapped[str] = mapped_column(Text)  # encrypted PEM
    dkim_public_key: Mapped[str] = mapped_column(Text)  # base64 DER, as published in DNS
    dkim_ed25519_selector: Mapped[str | None] = mapped_column(String(63))
    dkim_ed25519_private_key: Mapped[str | None] = mapped_column(Text)  # encrypted PEM
    dkim_ed25519_public_key: Mapped[str | None] = mapped_column(Text)  # base64 raw key
    return_path_host: Mapped[str] = mapped_column(String(253))
    # {"ownership": {"ok": true, "checked_at": "...", "found": [...], "error": null}, ...}
    checks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_checked_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountDomain(Base):
    """A domain a delivery account may send from."""

    __tablename__ = "account_domains"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("delivery_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    domain_id: Mapped[int] = mapped_column(
        ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
