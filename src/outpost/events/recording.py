"""Writing events and daily counters in bulk; used by acceptance and by delivery (hot paths)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from outpost.db import utcnow
from outpost.events.sql import COUNT_DAILY, EVENT_COLUMNS, STAT_FIELDS
from outpost.fastsql import Driver

Executor = Session | Connection | Driver


def driver_for(executor: Executor) -> Driver:
    """The raw driver under a session, a connection or a driver."""
    if isinstance(executor, Driver):
        return executor
    if isinstance(executor, Session):
        executor.flush()
        return Driver(executor.connection())
    return Driver(executor)


def add_events(executor: Executor, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert events in one batch; each row has account_id, type and optional fields."""
    if not rows:
        return
    driver = driver_for(executor)
    now = utcnow()
    driver.insert_rows(
        "events",
        EVENT_COLUMNS,
        [
            (
                row["account_id"],
                row.get("message_id"),
                row.get("recipient_id"),
                str(row["type"]),
                row.get("address", ""),
                driver.json(row.get("details", {})),
                driver.time(row.get("created_at") or now),
            )
            for row in rows
        ],
    )


def count_daily(executor: Executor, increments: Mapping[tuple[int, date], Counter[str]]) -> None:
    """Add to each (account, day)'s counters, creating the row when it is the day's first."""
    if not increments:
        return
    driver = driver_for(executor)
    driver.executemany(
        COUNT_DAILY,
        [
            {
                "account_id": account_id,
                "day": day if driver.dialect == "postgresql" else day.isoformat(),
                **{field: int(counts.get(field, 0)) for field in STAT_FIELDS},
            }
            for (account_id, day), counts in sorted(increments.items())
        ],
    )
