"""Every table, imported in one place so the metadata (and Alembic) knows them all."""

from __future__ import annotations

from collections.abc import Callable

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


# Declared for SQLite; on PostgreSQL triggers do their cascades instead (migration 0006).
POSTGRESQL_TRIGGER_KEYS = frozenset(
    {
        "fk_messages_account_id_delivery_accounts",
        "fk_messages_sender_domain_id_domains",
        "fk_message_bodies_message_id_messages",
        "fk_recipients_message_id_messages",
        "fk_events_message_id_messages",
        "fk_events_account_id_delivery_accounts",
    }
)


def include_object_for(dialect: str) -> Callable[..., bool]:
    """For Alembic's comparisons on ``dialect``: leave out what that database does not have."""

    def include_object(_object: object, name: str | None, type_: str, *_: object) -> bool:
        return not (
            dialect == "postgresql"
            and type_ == "foreign_key_constraint"
            and name in POSTGRESQL_TRIGGER_KEYS
        )

    return include_object


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
    "include_object_for",
]
