"""The delivery queue: due recipients, claimed in batches with a lease.

A claim is one statement. It takes the oldest due recipients through the partial index
``ix_recipients_due`` (so it costs the same with ten thousand or a million queued), pushes
their ``next_attempt_at`` to the end of the lease and marks ``locked_by``/``locked_until``.
A crashed worker's claims thus fall due again by themselves. On PostgreSQL concurrent
workers skip each other's rows (``FOR UPDATE SKIP LOCKED``); on SQLite ``BEGIN IMMEDIATE``
already serializes writers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from outpost.db import utcnow
from outpost.sending.models import Recipient

# Spelled exactly like the partial index's predicate, and as literals rather than bound
# parameters, so both planners can prove the index applies.
DUE_PREDICATE = text("recipients.status IN ('queued', 'deferred')")


@dataclass(frozen=True)
class ClaimedRecipient:
    """A recipient this worker holds until ``lease_end``."""

    id: int
    message_id: int
    account_id: int
    address: str
    domain: str
    attempts: int
    created_at: datetime


def claim_due_recipients(
    *,
    session: Session,
    worker_id: str,
    limit: int,
    lease: timedelta,
    now: datetime | None = None,
) -> list[ClaimedRecipient]:
    """Claim up to ``limit`` due recipients for ``worker_id`` in one statement."""
    now = now or utcnow()
    lease_end = now + lease
    due = (
        select(Recipient.id)
        .where(DUE_PREDICATE, Recipient.next_attempt_at <= now)
        .order_by(Recipient.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    statement = (
        update(Recipient)
        .where(Recipient.id == due.c.id)
        .values(next_attempt_at=lease_end, locked_by=worker_id, locked_until=lease_end)
        .returning(
            Recipient.id,
            Recipient.message_id,
            Recipient.account_id,
            Recipient.address,
            Recipient.domain,
            Recipient.attempts,
            Recipient.created_at,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(statement).all()
    return sorted((ClaimedRecipient(*row) for row in rows), key=lambda r: r.id)


def by_domain(recipients: Sequence[ClaimedRecipient]) -> dict[str, list[ClaimedRecipient]]:
    """Recipients grouped by destination domain, in claim order."""
    groups: dict[str, list[ClaimedRecipient]] = defaultdict(list)
    for recipient in recipients:
        groups[recipient.domain.lower()].append(recipient)
    return dict(groups)
