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
from typing import cast

from sqlalchemy.orm import Session

from outpost.db import utcnow
from outpost.delivery import sql
from outpost.fastsql import Driver


@dataclass(frozen=True, slots=True)
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
    connection = session.connection()
    driver = Driver(connection)
    # Through SQLAlchemy's connection (not the bare cursor) so its events see the claim.
    rows = connection.exec_driver_sql(
        sql.CLAIM.text(driver.dialect),
        {
            "now": driver.time(now),
            "limit": limit,
            "lease_end": driver.time(now + lease),
            "worker_id": worker_id,
        },
    ).all()
    claimed = [
        ClaimedRecipient(
            int(id_),
            int(message_id),
            int(account_id),
            address,
            domain,
            int(attempts),
            cast(datetime, driver.read_time(created_at)),  # NOT NULL
        )
        for id_, message_id, account_id, address, domain, attempts, created_at in rows
    ]
    return sorted(claimed, key=lambda r: r.id)


def by_domain(recipients: Sequence[ClaimedRecipient]) -> dict[str, list[ClaimedRecipient]]:
    """Recipients grouped by destination domain, in claim order."""
    groups: dict[str, list[ClaimedRecipient]] = defaultdict(list)
    for recipient in recipients:
        groups[recipient.domain.lower()].append(recipient)
    return dict(groups)
