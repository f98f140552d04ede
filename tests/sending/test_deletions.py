"""Deleting an account or a domain takes the accepted mail that depends on it along.

SQLite does it by its foreign keys, PostgreSQL by triggers (migration 0006): the same
test on both.
"""

from __future__ import annotations

import httpx2 as httpx
from sqlalchemy import func, select

from outpost.accounts.models import DeliveryAccount
from outpost.db import Database
from outpost.domains.models import Domain
from outpost.events.models import Event
from outpost.sending.models import Message, MessageBody, Recipient
from tests.factories import Factory
from tests.sending.conftest import Sender, make_sender


def _send(http: httpx.Client, sender: Sender, domain: str) -> None:
    message = {"from": f"shop@{domain}", "to": "a@dest.test", "subject": "s", "text_body": "hi"}
    response = http.post("/v1/send", headers=sender.headers, json={"messages": [message] * 2})
    assert response.status_code == 202, response.text


def _rows(db: Database, account_id: int) -> tuple[int, int, int, int]:
    """(messages, bodies, recipients, events) of an account."""
    ids = select(Message.id).where(Message.account_id == account_id)
    with db.session() as session:
        return (
            session.scalar(select(func.count()).select_from(ids.subquery())) or 0,
            session.scalar(select(func.count()).where(MessageBody.message_id.in_(ids))) or 0,
            session.scalar(select(func.count()).where(Recipient.message_id.in_(ids))) or 0,
            session.scalar(select(func.count()).where(Event.account_id == account_id)) or 0,
        )


def test_deleting_a_domain_or_an_account_takes_their_mail_along(
    http: httpx.Client, sender: Sender, db: Database, factory: Factory
) -> None:
    other = make_sender(db, factory, domain="other.test")
    _send(http, sender, "example.test")
    _send(http, other, "other.test")
    assert _rows(db, sender.account_id) == _rows(db, other.account_id) == (2, 2, 2, 2)

    with db.session() as s:
        s.delete(s.scalars(select(Domain).where(Domain.name == "example.test")).one())
    with db.session() as s:
        domains = dict(s.execute(select(Message.account_id, Message.sender_domain_id)).all())
    assert domains[sender.account_id] is None
    assert domains[other.account_id] is not None

    with db.session() as s:
        s.delete(s.get_one(DeliveryAccount, sender.account_id))
    assert _rows(db, sender.account_id) == (0, 0, 0, 0)
    assert _rows(db, other.account_id) == (2, 2, 2, 2)
