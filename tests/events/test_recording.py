"""Daily counters add up across calls, on both databases."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.events.models import DailyStats
from outpost.events.recording import count_daily
from tests.factories import make_account


def test_counters_accumulate(session: Session) -> None:
    account = make_account(session)
    day = date(2026, 11, 23)
    count_daily(session, {(account.id, day): Counter(sent=3, suppressed=1)})
    count_daily(session, {(account.id, day): Counter(sent=2, delivered=4)})
    row = session.scalars(select(DailyStats).where(DailyStats.account_id == account.id)).one()
    assert (row.sent, row.delivered, row.suppressed, row.bounced) == (5, 4, 1, 0)
