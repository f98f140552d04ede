"""Quotas are never oversold: many concurrent senders, one account, a fixed number left."""

from __future__ import annotations

import smtplib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import pytest
from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.db import Database
from tests.factories import Factory, associate, make_account, make_domain
from tests.sending.conftest import make_sender, stored
from tests.support.smtp import run_submission

SENDERS = 100


@pytest.fixture
def unthrottled(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(settings, "send_api_rate_limit", 1_000_000.0)
    monkeypatch.setattr(settings, "send_api_rate_burst", 1_000_000)
    yield


@pytest.mark.slow
def test_send_api_accepts_exactly_what_is_left(
    live_url: str, db: Database, factory: Factory, session: Session, unthrottled: None
) -> None:
    sender = make_sender(db, factory, remaining=1000)
    payload = {
        "messages": [
            {
                "from": "shop@example.test",
                "to": "a@dest.test, b@dest.test",
                "subject": "s",
                "text_body": "t",
            }
        ]
    }

    def send_many(_: int) -> list[int]:
        with httpx.Client(base_url=live_url, timeout=60) as client:
            return [
                client.post("/v1/send", headers=sender.headers, json=payload).status_code
                for _ in range(7)
            ]

    with ThreadPoolExecutor(SENDERS) as pool:
        statuses = Counter(code for codes in pool.map(send_many, range(SENDERS)) for code in codes)
    # 700 requests of 2 recipients each against 1,000 messages: exactly 500 fit.
    assert statuses == {202: 500, 429: 200}
    assert stored(session, sender.account_id) == (500, 1000, 0)


@pytest.mark.slow
def test_smtp_accepts_exactly_what_is_left(
    settings: Settings, db: Database, factory: Factory, session: Session
) -> None:
    customer = factory.customer()
    with db.session() as s:
        account = make_account(
            s, org_id=customer.org_id, remaining=60, smtp_password="pw-123456789"
        )
        associate(s, account, make_domain(s, org_id=customer.org_id, name="example.test"))
    content = b"From: shop@example.test\r\nSubject: s\r\n\r\nt\r\n"

    with run_submission(settings, db) as server:

        def send_many(_: int) -> int:
            sent = 0
            with smtplib.SMTP(server.host, server.starttls_port, timeout=60) as client:
                client.starttls(context=server.client_context)
                client.login(account.username, "pw-123456789")
                for _ in range(5):
                    try:
                        client.sendmail("shop@example.test", ["a@dest.test"], content)
                        sent += 1
                    except smtplib.SMTPRecipientsRefused:
                        pass
                    except smtplib.SMTPDataError as exc:
                        assert exc.smtp_code == 452
            return sent

        with ThreadPoolExecutor(20) as pool:
            sent = sum(pool.map(send_many, range(20)))
    assert sent == 60
    assert stored(session, account.id) == (60, 60, 0)
