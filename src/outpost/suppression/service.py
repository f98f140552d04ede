"""The suppression list: look-ups for sending and additions from bounces."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.suppression.models import Suppression, SuppressionReason


def suppressed_among(*, session: Session, account_id: int, addresses: Collection[str]) -> set[str]:
    """Which of ``addresses`` (lower-cased) are on the account's list, in one query."""
    if not addresses:
        return set()
    wanted = {a.lower() for a in addresses}
    rows = session.scalars(
        select(Suppression.address).where(
            Suppression.account_id == account_id, Suppression.address.in_(wanted)
        )
    )
    return set(rows)


def add_suppression(
    *,
    session: Session,
    account_id: int,
    address: str,
    reason: SuppressionReason,
    detail: str = "",
    message_id: str | None = None,
) -> tuple[Suppression, bool]:
    """Put ``address`` on the list unless it is there already; returns the row and if it is new."""
    address = address.strip().lower()
    existing = session.scalar(
        select(Suppression).where(
            Suppression.account_id == account_id, Suppression.address == address
        )
    )
    if existing is not None:
        return existing, False
    row = Suppression(
        account_id=account_id, address=address, reason=reason, detail=detail, message_id=message_id
    )
    session.add(row)
    session.flush()
    return row, True
