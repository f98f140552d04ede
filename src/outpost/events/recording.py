"""Writing events and daily counters in bulk; used by acceptance and by delivery."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from outpost.events.models import DailyStats, Event
from outpost.events.webhooks import enabled_webhooks, queue_webhook_deliveries

STAT_FIELDS = ("sent", "delivered", "deferred", "bounced", "suppressed", "expired")


def add_events(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert events in one statement; each row has account_id, type and optional fields.

    Events of accounts with enabled webhooks are also queued for those webhooks.
    """
    if not rows:
        return
    hooks = enabled_webhooks(session, {row["account_id"] for row in rows})
    if not hooks:
        session.execute(insert(Event), list(rows))
        return
    ids = session.scalars(
        insert(Event).returning(Event.id, sort_by_parameter_order=True), list(rows)
    ).all()
    queue_webhook_deliveries(
        session,
        [(i, row["account_id"], str(row["type"])) for i, row in zip(ids, rows, strict=True)],
        hooks,
    )


def count_daily(session: Session, increments: Mapping[tuple[int, date], Counter[str]]) -> None:
    """Add to each (account, day)'s counters, creating the row when it is the day's first."""
    if not increments:
        return
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for (account_id, day), counts in sorted(increments.items()):
        values = {field: int(counts.get(field, 0)) for field in STAT_FIELDS}
        statement = insert_fn(DailyStats).values(account_id=account_id, day=day, **values)
        statement = statement.on_conflict_do_update(
            index_elements=[DailyStats.account_id, DailyStats.day],
            set_={
                field: getattr(DailyStats, field) + statement.excluded[field]
                for field in STAT_FIELDS
                if values[field]
            }
            or {"sent": DailyStats.sent},
        )
        session.execute(statement)
