"""Writing events and daily counters in bulk; used by acceptance and by delivery."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from outpost.events.models import DailyStats, Event

STAT_FIELDS = ("sent", "delivered", "deferred", "bounced", "suppressed", "expired")

Executor = Session | Connection


def _dialect_name(executor: Executor) -> str:
    if isinstance(executor, Connection):
        return executor.dialect.name
    return executor.get_bind().dialect.name


def add_events(executor: Executor, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert events in one statement; each row has account_id, type and optional fields."""
    if rows:
        executor.execute(insert(Event), list(rows))


def count_daily(executor: Executor, increments: Mapping[tuple[int, date], Counter[str]]) -> None:
    """Add to each (account, day)'s counters, creating the row when it is the day's first."""
    if not increments:
        return
    dialect = _dialect_name(executor)
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
        executor.execute(statement)
