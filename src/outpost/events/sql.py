"""Event and daily-counter statements (run through :mod:`outpost.fastsql`)."""

from __future__ import annotations

from outpost.fastsql import Statement, statement

STAT_FIELDS = ("sent", "delivered", "deferred", "bounced", "suppressed", "expired")

# With "id" first, for when ids are allocated up front (events that webhooks must see).
EVENT_COLUMNS = (
    "id", "account_id", "message_id", "recipient_id", "type", "address", "details",
    "created_at",
)  # fmt: skip

# On SQLite the transaction holds the write lock (BEGIN IMMEDIATE), so MAX(id) is ours.
NEXT_EVENT_ID = Statement(
    "SELECT COALESCE(MAX(id), 0) + 1 FROM events",
    "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, :count)",
)

ENABLED_WEBHOOKS = statement(
    "SELECT id, account_id, event_types FROM webhooks WHERE enabled AND {ids}",
    ids="account_id",
)

WEBHOOK_DELIVERY_COLUMNS = (
    "webhook_id", "event_id", "status", "attempts", "next_attempt_at", "created_at",
)  # fmt: skip

COUNT_DAILY = Statement(
    f"""
    INSERT INTO daily_stats (account_id, day, {", ".join(STAT_FIELDS)})
    VALUES (:account_id, :day, {", ".join(":" + f for f in STAT_FIELDS)})
    ON CONFLICT (account_id, day) DO UPDATE SET
    {", ".join(f"{f} = daily_stats.{f} + excluded.{f}" for f in STAT_FIELDS)}
    """
)
