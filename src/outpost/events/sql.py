"""Event and daily-counter statements (run through :mod:`outpost.fastsql`)."""

from __future__ import annotations

from outpost.fastsql import Statement

STAT_FIELDS = ("sent", "delivered", "deferred", "bounced", "suppressed", "expired")

EVENT_COLUMNS = (
    "account_id", "message_id", "recipient_id", "type", "address", "details", "created_at",
)  # fmt: skip

COUNT_DAILY = Statement(
    f"""
    INSERT INTO daily_stats (account_id, day, {", ".join(STAT_FIELDS)})
    VALUES (:account_id, :day, {", ".join(":" + f for f in STAT_FIELDS)})
    ON CONFLICT (account_id, day) DO UPDATE SET
    {", ".join(f"{f} = daily_stats.{f} + excluded.{f}" for f in STAT_FIELDS)}
    """
)
