"""One batch of acceptances written together: what it stores, and a batch that does not fit.

These call the writer's batch function directly on a held connection, so a batch holds
exactly the requests the test puts in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from outpost.db import Database
from outpost.errors import QuotaExceeded, Unavailable
from outpost.events.models import DailyStats, Event, Webhook, WebhookDelivery
from outpost.fastsql import Driver, HeldConnection
from outpost.sending import pipeline
from outpost.sending.models import IdempotencyRecord
from outpost.sending.responses import accepted_body
from outpost.sending.submission import AcceptRequest
from outpost.sending.writer import Outcome, write_batch
from outpost.suppression.models import SuppressionReason
from outpost.suppression.service import add_suppression
from outpost.tokens.models import SendToken
from tests.factories import Factory
from tests.sending.conftest import accept_request, make_sender, stored


@pytest.fixture
def connection(db: Database) -> Iterator[HeldConnection]:
    held = HeldConnection(db.engine)
    yield held
    held.close()


def _write(connection: HeldConnection, requests: list[AcceptRequest]) -> list[Outcome]:
    outcomes: dict[int, Outcome] = {}

    def answer(index: int) -> Any:
        return lambda outcome: outcomes.__setitem__(index, outcome)

    again = write_batch(connection, accepted_body, [(r, answer(i)) for i, r in enumerate(requests)])
    assert again == []
    return [outcomes[i] for i in range(len(requests))]


def test_a_batch_that_does_not_fit_accepts_what_fits_in_arrival_order(
    db: Database, factory: Factory, connection: HeldConnection, session: Session
) -> None:
    sender = make_sender(db, factory, remaining=4)
    first, second, third = _write(
        connection,
        [
            accept_request(sender, "a@dest.test, b@dest.test"),
            accept_request(sender, "c@dest.test, d@dest.test, e@dest.test"),
            accept_request(sender, "f@dest.test, g@dest.test"),
        ],
    )
    assert not isinstance(first, Exception) and first.queued_recipients == 2
    assert isinstance(second, QuotaExceeded)
    assert "needs 3, the account has 2" in second.message
    assert not isinstance(third, Exception) and third.queued_recipients == 2
    assert stored(session, sender.account_id) == (2, 4, 0)
    addresses = session.scalars(
        select(Event.address).where(Event.account_id == sender.account_id).order_by(Event.id)
    ).all()
    assert addresses == ["a@dest.test", "b@dest.test", "f@dest.test", "g@dest.test"]


def test_a_batch_writes_events_webhook_deliveries_counters_keys_and_token_use(
    db: Database, factory: Factory, connection: HeldConnection, session: Session
) -> None:
    sender = make_sender(db, factory)
    with db.session() as s:
        add_suppression(
            session=s,
            account_id=sender.account_id,
            address="gone@dest.test",
            reason=SuppressionReason.hard_bounce,
        )
        hooks = {
            name: Webhook(
                account_id=sender.account_id,
                url=f"https://hooks.example.test/{name}",
                secret="x",
                event_types=types,
                enabled=enabled,
            )
            for name, types, enabled in [
                ("all", [], True),
                ("suppressed", ["suppressed"], True),
                ("off", [], False),
            ]
        }
        s.add_all(hooks.values())
        s.flush()
        hook_ids = {hook.id: name for name, hook in hooks.items()}
    other = make_sender(db, factory, domain="other.test")

    outcomes = _write(
        connection,
        [
            accept_request(sender, "ok@dest.test, Gone@dest.test", key="order-1"),
            accept_request(sender, "two@dest.test"),
        ],
    )
    assert [o.queued_recipients for o in outcomes if not isinstance(o, Exception)] == [1, 1]

    events = session.execute(
        select(Event.id, Event.type, Event.address, Event.message_id)
        .where(Event.account_id == sender.account_id)
        .order_by(Event.id)
    ).all()
    assert [(e.type, e.address) for e in events] == [
        ("accepted", "ok@dest.test"),
        ("suppressed", "Gone@dest.test"),
        ("accepted", "two@dest.test"),
    ]
    deliveries = session.execute(
        select(WebhookDelivery.webhook_id, WebhookDelivery.event_id, WebhookDelivery.status)
    ).all()
    by_event = {e.id: e.type for e in events}
    assert sorted((hook_ids[d[0]], by_event[d[1]], d[2]) for d in deliveries) == [
        ("all", "accepted", "pending"),
        ("all", "accepted", "pending"),
        ("all", "suppressed", "pending"),
        ("suppressed", "suppressed", "pending"),
    ]
    stats = session.scalars(select(DailyStats)).all()
    assert [(s.account_id, s.sent, s.suppressed) for s in stats] == [(sender.account_id, 2, 1)]
    record = session.scalars(select(IdempotencyRecord)).one()
    assert (record.account_id, record.key, record.status_code) == (
        sender.account_id,
        "order-1",
        202,
    )
    assert record.response["queued_messages"] == 1
    used = dict(session.execute(select(SendToken.account_id, SendToken.last_used_at)).all())
    assert used[sender.account_id] is not None and used[other.account_id] is None


def test_a_lost_connection_answers_503_and_is_replaced_without_a_retry(
    db: Database, factory: Factory, connection: HeldConnection, session: Session
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has no server to lose")
    sender = make_sender(db, factory)
    _write(connection, [accept_request(sender, "first@dest.test")])
    with db.engine.connect() as admin:
        # Whoever holds the writer's connection is gone: its server process ends.
        admin.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": connection.backend_pid()},
        )
    lost = _write(
        connection, [accept_request(sender, "a@dest.test"), accept_request(sender, "b@dest.test")]
    )
    for outcome in lost:
        assert isinstance(outcome, Unavailable)
        assert "may or may not have been stored" in outcome.message
    [again] = _write(connection, [accept_request(sender, "c@dest.test")])
    assert not isinstance(again, Exception) and again.queued_recipients == 1
    assert stored(session, sender.account_id) == (2, 2, 998)


def test_a_key_stored_by_another_process_meanwhile_replays_its_answer(
    db: Database,
    factory: Factory,
    connection: HeldConnection,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite's writers take the database's lock before the check: no race")
    sender = make_sender(db, factory)
    request = accept_request(sender, key="order-7")
    checks = list(pipeline.CHECKS)

    def the_other_process_wins(driver: Driver, jobs: list[pipeline.Job], now: datetime) -> None:
        pipeline.check_idempotency(driver, jobs, now)  # reads no record for the key
        with db.session() as other:
            other.add(
                IdempotencyRecord(
                    account_id=sender.account_id,
                    key="order-7",
                    request_hash="a" * 64,
                    status_code=202,
                    response={"request_id": "answered-elsewhere"},
                )
            )

    monkeypatch.setattr(pipeline, "CHECKS", [*checks[:-1], the_other_process_wins], raising=True)
    outcomes: list[Outcome] = []
    again = write_batch(connection, accepted_body, [(request, outcomes.append)])
    assert again != [] and outcomes == []  # neither stored nor refused: to be run again
    monkeypatch.setattr(pipeline, "CHECKS", checks)
    assert write_batch(connection, accepted_body, again) == []
    [replayed] = outcomes
    assert not isinstance(replayed, Exception)
    assert replayed.replayed == {"request_id": "answered-elsewhere"}
    assert stored(session, sender.account_id) == (0, 0, 1000)
