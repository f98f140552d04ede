"""What the send path uses: bearer look-up and a last-used time written at most once a minute."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from outpost.db import Database, utcnow
from outpost.errors import Unauthorized
from outpost.tenancy.models import OrgKind, Role
from outpost.tenancy.scope import Caller
from outpost.tokens.models import SendToken
from outpost.tokens.schemas import TokenCreate
from outpost.tokens.service import authenticate_send_token, create_token, touch_last_used
from tests.factories import Factory, make_account


def _token(factory: Factory, db: Database) -> tuple[int, str]:
    customer = factory.customer()
    caller = Caller(org_id=customer.org_id, org_kind=OrgKind.customer, role=Role.owner)
    with db.session() as session:
        account = make_account(session, org_id=customer.org_id)
        created = create_token(
            session=session, caller=caller, account_id=account.id, data=TokenCreate(name="t")
        )
        return account.id, created.value


def test_a_token_stands_for_its_account(factory: Factory, db: Database) -> None:
    account_id, value = _token(factory, db)
    with db.session() as session:
        token, account = authenticate_send_token(session=session, token=value)
        assert account.id == account_id and token.account_id == account_id


@pytest.mark.parametrize("value", ["", "ops_not-a-token", "opk_management-key", "Bearer x"])
def test_unknown_tokens_are_unauthorized(factory: Factory, db: Database, value: str) -> None:
    _token(factory, db)
    with db.session() as session, pytest.raises(Unauthorized):
        authenticate_send_token(session=session, token=value)


def test_a_management_key_is_not_a_send_token(factory: Factory, db: Database) -> None:
    customer = factory.customer()
    with db.session() as session, pytest.raises(Unauthorized):
        authenticate_send_token(session=session, token=customer.headers["X-Api-Token"])


def test_last_used_is_written_at_most_once_a_minute(factory: Factory, db: Database) -> None:
    _, value = _token(factory, db)
    start = utcnow()

    def use(at: timedelta) -> bool:
        with db.session() as session:
            token, _ = authenticate_send_token(session=session, token=value)
            return touch_last_used(session=session, token=token, now=start + at)

    def stored() -> object:
        with db.session() as session:
            return session.scalar(select(SendToken.last_used_at))

    assert use(timedelta(0)) is True
    assert stored() == start
    assert use(timedelta(seconds=30)) is False
    assert stored() == start
    assert use(timedelta(seconds=61)) is True
    assert stored() == start + timedelta(seconds=61)


def test_a_stale_copy_does_not_overwrite_a_fresh_time(factory: Factory, db: Database) -> None:
    _, value = _token(factory, db)
    start = utcnow()
    with db.session() as session:
        stale, _ = authenticate_send_token(session=session, token=value)
    with db.session() as session:
        fresh, _ = authenticate_send_token(session=session, token=value)
        assert touch_last_used(session=session, token=fresh, now=start)
    with db.session() as session:
        session.add(stale)
        # Another request wrote a moment ago: this one's copy is stale, the row is not.
        assert (
            touch_last_used(session=session, token=stale, now=start + timedelta(seconds=5)) is False
        )
    with db.session() as session:
        assert session.scalar(select(SendToken.last_used_at)) == start
