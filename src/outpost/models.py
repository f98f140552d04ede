"""Every table, imported in one place so the metadata (and Alembic) knows them all."""

from __future__ import annotations

from outpost.db import Base
from outpost.plans.models import Plan
from outpost.tenancy.models import ApiKey, Organization, User, WebSession

__all__ = ["ApiKey", "Base", "Organization", "Plan", "User", "WebSession"]
