"""Quota arithmetic: the ``remaining`` invariant, periods, and race-free quota updates.

``remaining == plan_messages - used + extra_messages - extra_used`` always holds. Quota
changes are SQL ``UPDATE`` statements whose right-hand sides refer to the row's current
values, so they never overwrite a reservation another transaction made meanwhile.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Update, literal, update
from sqlalchemy.orm import Session

from outpost.accounts.models import DeliveryAccount

QUOTA_COLUMNS = ("plan_messages", "used", "extra_messages", "extra_used")
PREPAID_VALIDITY_MONTHS = 12
EXTRA_VALIDITY_MONTHS = 12


def recompute_remaining(account: DeliveryAccount) -> int:
    """Set ``account.remaining`` from its four counters (for rows not yet in the database)."""
    account.remaining = (
        (account.plan_messages or 0)
        - (account.used or 0)
        + (account.extra_messages or 0)
        - (account.extra_used or 0)
    )
    return account.remaining


def _as_expression(value: Any) -> ColumnElement[Any]:
    return value if isinstance(value, ColumnElement) else literal(value)


def quota_update_where(condition: ColumnElement[bool], **changes: Any) -> Update:
    """An UPDATE of the accounts matching ``condition`` setting ``changes`` and ``remaining``.

    Values may be plain numbers or expressions over the row's current columns
    (``DeliveryAccount.extra_messages + 1000``); ``remaining`` is derived from them in the
    same statement.
    """
    new = {
        name: _as_expression(changes[name]) if name in changes else getattr(DeliveryAccount, name)
        for name in QUOTA_COLUMNS
    }
    remaining = new["plan_messages"] - new["used"] + new["extra_messages"] - new["extra_used"]
    return (
        update(DeliveryAccount)
        .where(condition)
        .values(**changes, remaining=remaining)
        .execution_options(synchronize_session=False)
    )


def quota_update(account_id: int, **changes: Any) -> Update:
    """:func:`quota_update_where` for one account."""
    return quota_update_where(DeliveryAccount.id == account_id, **changes)


def apply_quota(session: Session, account: DeliveryAccount, **changes: Any) -> None:
    """Run :func:`quota_update` for ``account`` and reload it."""
    session.flush()
    session.execute(quota_update(account.id, **changes))
    session.refresh(account)


def add_months(moment: datetime, months: int, *, day: int | None = None) -> datetime:
    """``moment`` plus whole months, on ``day`` (default: its own) clamped to the month's end."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(day or moment.day, last_day))


def next_period_end(start: datetime, end: datetime) -> datetime:
    """The end of the period after ``[start, end)``, one month later on the same anchor day.

    The anchor is the day of month the periods started on; a clamped boundary (31 January →
    28 February) never drifts the next ones, because two consecutive boundaries are never
    both clamped, so the larger of their days is the anchor.
    """
    return add_months(end, 1, day=max(start.day, end.day))


def first_period(now: datetime) -> tuple[datetime, datetime]:
    """A monthly period starting ``now``."""
    return now, add_months(now, 1)


def prepaid_expiry(now: datetime, current: datetime | None) -> datetime:
    """When a prepaid package bought ``now`` expires: a year later, never before ``current``."""
    expiry = add_months(now, PREPAID_VALIDITY_MONTHS)
    return max(expiry, current) if current is not None else expiry


def extra_expiry(now: datetime, current: datetime | None) -> datetime:
    """When extra messages bought ``now`` expire: a year later, never before ``current``."""
    expiry = add_months(now, EXTRA_VALIDITY_MONTHS)
    return max(expiry, current) if current is not None else expiry
