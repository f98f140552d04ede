"""A customer with an enabled account that may send from a verified domain, by token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outpost.accounts.models import DeliveryAccount
from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.security import token_hash
from outpost.sending.api_messages import outgoing_message
from outpost.sending.models import Message, MessageSource, Recipient
from outpost.sending.schemas import SendRequest
from outpost.sending.submission import AcceptRequest, Idempotency
from tests.factories import Factory, associate, make_account, make_domain, make_send_token
from tests.support.live import serve_app


@dataclass
class Sender:
    """An account ready to send from ``example.test`` with a bearer token."""

    org_id: int
    account_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_sender(
    db: Database, factory: Factory, *, remaining: int = 1000, domain: str = "example.test"
) -> Sender:
    customer = factory.customer()
    with db.session() as session:
        account = make_account(session, org_id=customer.org_id, remaining=remaining)
        associate(session, account, make_domain(session, org_id=customer.org_id, name=domain))
        token = make_send_token(session, account)
        return Sender(customer.org_id, account.id, token)


def accept_request(
    sender: Sender, to: str = "a@dest.test", *, key: str | None = None
) -> AcceptRequest:
    """A Send API request of one message from ``example.test`` to ``to``, as the API builds it."""
    body = SendRequest.model_validate(
        {"messages": [{"from": "shop@example.test", "to": to, "subject": "s", "text_body": "hi"}]}
    )
    return AcceptRequest(
        source=MessageSource.api,
        client_ip="127.0.0.1",
        request_id=str(uuid.uuid4()),
        messages=[outgoing_message(m, m.to, now=utcnow()) for m in body.messages],
        token_hash=token_hash(sender.token),
        idempotency=Idempotency(key, "a" * 64) if key else None,
    )


@pytest.fixture
def sender(db: Database, factory: Factory) -> Sender:
    return make_sender(db, factory)


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    with serve_app(app) as url:
        yield url


@pytest.fixture
def http(live_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_url, timeout=30) as client:
        yield client


def stored(session: Session, account_id: int) -> tuple[int, int, int]:
    """(messages, recipients, remaining) of an account, read fresh."""
    session.expire_all()
    messages = session.scalar(
        select(func.count()).select_from(Message).where(Message.account_id == account_id)
    )
    recipients = session.scalar(
        select(func.count()).select_from(Recipient).where(Recipient.account_id == account_id)
    )
    remaining = session.scalar(
        select(DeliveryAccount.remaining).where(DeliveryAccount.id == account_id)
    )
    session.commit()  # end the transaction: on SQLite it holds the write lock
    return int(messages or 0), int(recipients or 0), int(remaining or 0)


@pytest.fixture
def app_settings_limits(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small size limits, so oversized bodies are cheap to make."""
    monkeypatch.setattr(settings, "max_message_size", 30_000)
    monkeypatch.setattr(settings, "max_request_size", 200_000)
