"""Suppression look-ups are case-insensitive and additions idempotent, one by one or in bulk."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.suppression.models import Suppression, SuppressionReason
from outpost.suppression.service import add_suppression, add_suppressions, suppressed_among
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


def test_bulk_add_keeps_what_is_listed_and_the_first_of_duplicates(session: Session) -> None:
    account = make_account(session)
    existing, _ = add_suppression(
        session=session,
        account_id=account.id,
        address="bob@example.com",
        reason=SuppressionReason.manual,
        detail="by hand",
    )
    added = add_suppressions(
        session=session,
        account_id=account.id,
        entries=[
            ("BOB@example.com", "550 gone", "m1@x"),
            ("Carol@example.com", "550 first", "m2@x"),
            ("carol@example.com", "550 second", "m3@x"),
        ],
        reason=SuppressionReason.hard_bounce,
    )
    assert added == 1
    rows = {
        r.address: r
        for r in session.scalars(select(Suppression).where(Suppression.account_id == account.id))
    }
    assert sorted(rows) == ["bob@example.com", "carol@example.com"]
    assert rows["bob@example.com"].reason is SuppressionReason.manual
    assert existing.detail == "by hand"
    carol = rows["carol@example.com"]
    assert (carol.reason, carol.detail, carol.message_id) == (
        SuppressionReason.hard_bounce,
        "550 first",
        "m2@x",
    )
