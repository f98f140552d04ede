"""Suppression look-ups are case-insensitive and additions idempotent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from outpost.suppression.models import SuppressionReason
from outpost.suppression.service import add_suppression, suppressed_among
from tests.factories import make_account


def test_add_is_idempotent_and_lookup_ignores_case(session: Session) -> None:
    account = make_account(session)
    row, created = add_suppression(
        session=session,
        account_id=account.id,
        address="Bob@Example.com",
        reason=SuppressionReason.hard_bounce,
    )
    assert created and row.address == "bob@example.com"
    _, created_again = add_suppression(
        session=session,
        account_id=account.id,
        address="bob@example.com",
        reason=SuppressionReason.manual,
    )
    assert not created_again
    found = suppressed_among(
        session=session, account_id=account.id, addresses=["BOB@example.com", "alice@example.com"]
    )
    assert found == {"bob@example.com"}
