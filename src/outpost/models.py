"""Every table, imported in one place so the metadata (and Alembic) knows them all."""

from __future__ import annotations

from outpost.accounts.models import SEARCH_TABLE, DeliveryAccount
from outpost.billing.models import Order
from outpost.db import Base
from outpost.domains.models import AccountDomain, Domain
from outpost.events.models import DailyStats, Event, Webhook, WebhookDelivery
from outpost.plans.models import Plan
from outpost.sending.models import IdempotencyRecord, Message, MessageBody, Recipient
from outpost.suppression.models import Suppression
from outpost.tenancy.models import ApiKey, Organization, User, WebSession
from outpost.tokens.models import SendToken


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """For Alembic's comparisons: every table but SQLite's full-text index and its shadows."""
    return not (type_ == "table" and (name or "").startswith(SEARCH_TABLE))


__all__ = [
    "AccountDomain",
    "ApiKey",
    "Base",
    "DailyStats",
    "DeliveryAccount",
    "Domain",
    "Event",
    "IdempotencyRecord",
    "Message",
    "MessageBody",
    "Order",
    "Organization",
    "Plan",
    "Recipient",
    "SendToken",
    "Suppression",
    "User",
    "WebSession",
    "Webhook",
    "WebhookDelivery",
    "include_name",
]
