"""Writing events and daily counters in bulk; used by acceptance and by delivery (hot paths).

Events of accounts with enabled webhooks are also queued for those webhooks, in the same
transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from outpost.db import utcnow
from outpost.events import sql
from outpost.fastsql import Driver

Executor = Session | Connection | Driver
Webhooks = list[tuple[int, int, list[str]]]  # (webhook id, account id, event types)


def driver_for(executor: Executor) -> Driver:
    """The raw driver under a session (flushed first), a connection or a driver."""
    if isinstance(executor, Driver):
        return executor
    if isinstance(executor, Session):
        executor.flush()
        return Driver(executor.connection())
    return Driver(executor)


def enabled_webhooks(driver: Driver, account_ids: Collection[int]) -> Webhooks:
    """The enabled webhooks of these accounts."""
    rows = driver.execute(sql.ENABLED_WEBHOOKS, {"ids": driver.array(set(account_ids))})
    return [
        (hook_id, account_id, list(driver.read_json(types) or []))
        for hook_id, account_id, types in rows
    ]


def _event_ids(driver: Driver, count: int) -> list[int]:
    rows = driver.execute(sql.NEXT_EVENT_ID, {"count": count})
    if driver.dialect == "postgresql":
        return [int(row[0]) for row in rows]
    first = int(rows[0][0])
    return list(range(first, first + count))


def _queue_webhook_deliveries(
    driver: Driver, events: Sequence[tuple[int, int, str]], hooks: Webhooks, now: datetime
) -> None:
    at = driver.time(now)
    driver.insert_rows(
        "webhook_deliveries",
        sql.WEBHOOK_DELIVERY_COLUMNS,
        [
            (hook_id, event_id, "pending", 0, at, at)
            for event_id, account_id, event_type in events
            for hook_id, hook_account, types in hooks
            if hook_account == account_id and (not types or event_type in types)
        ],
    )


def add_events(executor: Executor, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert events in one batch; each row has account_id, type and optional fields."""
    if not rows:
        return
    driver = driver_for(executor)
    now = utcnow()
    hooks = enabled_webhooks(driver, {row["account_id"] for row in rows})
    ids: Sequence[int | None] = _event_ids(driver, len(rows)) if hooks else [None] * len(rows)
    columns = sql.EVENT_COLUMNS if hooks else sql.EVENT_COLUMNS[1:]
    values = []
    stamps: dict[datetime, Any] = {}  # rows of a batch mostly share one time
    for event_id, row in zip(ids, rows, strict=True):
        at = row.get("created_at") or now
        stamp = stamps.get(at)
        if stamp is None:
            stamp = stamps[at] = driver.time(at)
        value = (
            row["account_id"],
            row.get("message_id"),
            row.get("recipient_id"),
            str(row["type"]),
            row.get("address", ""),
            driver.json(row.get("details", {})),
            stamp,
        )
        values.append((event_id, *value) if hooks else value)
    driver.insert_rows("events", columns, values)
    if hooks:
        events = [
            (int(event_id or 0), row["account_id"], str(row["type"]))
            for event_id, row in zip(ids, rows, strict=True)
        ]
        _queue_webhook_deliveries(driver, events, hooks, now)


def count_daily(executor: Executor, increments: Mapping[tuple[int, date], Counter[str]]) -> None:
    """Add to each (account, day)'s counters, creating the row when it is the day's first."""
    if not increments:
        return
    driver = driver_for(executor)
    driver.executemany(
        sql.COUNT_DAILY,
        [
            {
                "account_id": account_id,
                "day": day if driver.dialect == "postgresql" else day.isoformat(),
                **{field: int(counts.get(field, 0)) for field in sql.STAT_FIELDS},
            }
            for (account_id, day), counts in sorted(increments.items())
        ],
    )
