"""Organizations, users, management API keys and panel sessions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from outpost.db import Base, enum_type, utcnow


class OrgKind(enum.StrEnum):
    """Where an organization sits in the tree operator → reseller → customer."""

    operator = "operator"
    reseller = "reseller"
    customer = "customer"


class OrgStatus(enum.StrEnum):
    """Whether an organization may use the service."""

    active = "active"
    suspended = "suspended"


class ServicePackage(enum.StrEnum):
    """Who gives the customer support: the reseller itself or the operator at a level."""

    reseller = "reseller"
    silver = "silver"
    gold = "gold"
    platinum = "platinum"


class Role(enum.StrEnum):
    """What a user or API key may do inside what its organization can see."""

    owner = "owner"
    admin = "admin"
    member = "member"
    read_only = "read_only"


class Organization(Base):
    """A node of the tenant tree; every owned row carries its organization id."""

    __tablename__ = "organizations"
    __table_args__ = (Index("ix_organizations_parent_kind", "parent_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(enum_type(OrgKind))
    # NO ACTION (not RESTRICT): a parent with children cannot be deleted, checked per statement.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[OrgStatus] = mapped_column(enum_type(OrgStatus), default=OrgStatus.active)
    service_package: Mapped[ServicePackage] = mapped_column(
        enum_type(ServicePackage), default=ServicePackage.reseller
    )
    billing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    restrictions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    contract_accepted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(Base):
    """A person who logs in to the panel, inside one organization with one role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class ApiKey(Base):
    """A management API key; only the SHA-256 of its secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    preview: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class WebSession(Base):
    """A logged-in panel session; the cookie holds a secret whose SHA-256 is stored here."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
