"""Retention removes old message content and old events, never mail still on its way."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.delivery.retention import (
    purge_events,
    purge_idempotency_records,
    purge_message_bodies,
)
from outpost.delivery.verp import recipient_of, verp_address
from outpost.events.models import Event, EventType
from outpost.events.recording import add_events
from outpost.jobs import ALL_JOBS
from outpost.sending.models import (
    IdempotencyRecord,
    Message,
    MessageBody,
    Recipient,
    RecipientStatus,
)
from outpost.sending.pipeline import IDEMPOTENCY_WINDOW
from tests.delivery.support import queue_message
from tests.factories import make_account


def test_old_bodies_go_unless_still_due(db: Database, settings: Settings) -> None:
    with db.session() as session:
        account = make_account(session)
        done = queue_message(session, account_id=account.id, to=["a@dest.test"])
        due = queue_message(session, account_id=account.id, to=["b@dest.test"])
        fresh = queue_message(session, account_id=account.id, to=["c@dest.test"])
        old = utcnow() - timedelta(days=settings.message_body_retention_days + 1)
        session.execute(
            update(Message)
            .where(Message.id.in_([done.message_id, due.message_id]))
            .values(created_at=old)
        )
        session.execute(
            update(Recipient)
            .where(Recipient.message_id.in_([done.message_id, fresh.message_id]))
            .values(status=RecipientStatus.delivered)
        )
        add_events(
            session,
            [
                {"account_id": account.id, "type": EventType.delivered, "created_at": old},
                {
                    "account_id": account.id,
                    "type": EventType.delivered,
                    "created_at": utcnow() - timedelta(days=settings.event_retention_days + 1),
                },
            ],
        )
    with db.session() as session:
        assert purge_message_bodies(session=session, settings=settings) == 1
        assert purge_events(session=session, settings=settings) == 1
    with db.session() as session:
        kept = set(session.scalars(select(MessageBody.message_id)))
        assert kept == {due.message_id, fresh.message_id}
        assert session.scalar(select(Message).where(Message.id == done.message_id)) is not None
        assert len(session.scalars(select(Event)).all()) == 1
    assert {"purge-message-bodies", "purge-events"} <= {job.name for job in ALL_JOBS}


def test_idempotency_records_go_after_their_window(db: Database) -> None:
    with db.session() as session:
        account = make_account(session)
        for key, age in [("old", IDEMPOTENCY_WINDOW + timedelta(minutes=1)), ("new", timedelta())]:
            session.add(
                IdempotencyRecord(
                    account_id=account.id,
                    key=key,
                    request_hash="0" * 64,
                    status_code=202,
                    response={},
                    created_at=utcnow() - age,
                )
            )
    with db.session() as session:
        assert purge_idempotency_records(session=session) == 1
    with db.session() as session:
        assert list(session.scalars(select(IdempotencyRecord.key))) == ["new"]
    assert "purge-idempotency-records" in {job.name for job in ALL_JOBS}


def test_verp_addresses_cannot_be_forged() -> None:
    address = verp_address(secret="s1", recipient_id=42, return_path_host="RP.Example.test")
    assert address.endswith("@rp.example.test")
    assert recipient_of(secret="s1", address=address) == 42
    assert recipient_of(secret="s1", address=f"<{address.upper()}>") == 42
    assert recipient_of(secret="s2", address=address) is None
    assert recipient_of(secret="s1", address=address.replace("b+42-", "b+43-")) is None
    assert recipient_of(secret="s1", address="someone@rp.example.test") is None
