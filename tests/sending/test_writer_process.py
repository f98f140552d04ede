"""The PostgreSQL acceptance writer's child process: answers, its death, stopping."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.db import Database
from outpost.errors import Unavailable
from outpost.fastsql import generic_plan_options
from outpost.sending.service import Sending
from outpost.sending.submission import AcceptResult
from outpost.sending.writer_process import ProcessWriter
from tests.factories import Factory
from tests.sending.conftest import Sender, accept_request, make_sender, stored


@pytest.fixture
def sender(db: Database, factory: Factory) -> Sender:
    if db.dialect != "postgresql":
        pytest.skip("SQLite writes on the event loop; there is no writer process")
    return make_sender(db, factory, remaining=100)


def _writer(sending: Sending) -> ProcessWriter:
    assert isinstance(sending.writer, ProcessWriter)
    return sending.writer


def _wait_for_lock_waits(db: Database, *, waiting: bool) -> None:
    """Until some session of this database waits for a lock (the writer, on the account),
    or, with ``waiting=False``, until none does."""
    deadline = time.monotonic() + 30
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            count = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
            conn.commit()
            if bool(count) == waiting:
                return
            time.sleep(0.05)
    raise AssertionError(f"sessions waiting for a lock: {count}")


def test_requests_are_answered_after_commit_and_stop_ends_the_child(
    db: Database, settings: Settings, sender: Sender, session: Session
) -> None:
    sending = Sending(db, settings)
    sending.start()

    async def send(count: int) -> list[AcceptResult]:
        return list(
            await asyncio.gather(*(sending.accept(accept_request(sender)) for _ in range(count)))
        )

    results = asyncio.run(send(20))
    assert [r.queued_recipients for r in results] == [1] * 20
    child = _writer(sending)._child
    assert child is not None and child.process.is_alive()
    sending.stop()
    assert child.process.exitcode == 0
    assert stored(session, sender.account_id) == (20, 20, 80)
    with pytest.raises(Unavailable, match="shutting down"):
        asyncio.run(send(1))
    sending.start()  # started again: a new child answers, the old one's answers are gone
    try:
        assert [r.queued_recipients for r in asyncio.run(send(3))] == [1, 1, 1]
    finally:
        sending.stop()
    assert stored(session, sender.account_id) == (23, 23, 77)


def test_a_writer_that_dies_answers_503_and_the_next_request_gets_a_new_one(
    db: Database, settings: Settings, sender: Sender, session: Session
) -> None:
    sending = Sending(db, settings)
    sending.start()
    writer = _writer(sending)
    try:
        assert asyncio.run(sending.accept(accept_request(sender))).queued_recipients == 1
        first = writer._child
        assert first is not None
        with db.engine.connect() as blocker:
            # Hold the account's row so the next batch waits on it, then kill the writer.
            blocker.execute(
                text("SELECT id FROM delivery_accounts WHERE id = :id FOR UPDATE"),
                {"id": sender.account_id},
            )

            async def lost() -> None:
                pending = asyncio.ensure_future(sending.accept(accept_request(sender)))
                await asyncio.to_thread(_wait_for_lock_waits, db, waiting=True)
                os.kill(first.process.pid, signal.SIGKILL)
                with pytest.raises(Unavailable, match="may or may not have been stored"):
                    await pending

            asyncio.run(lost())
            # PostgreSQL notices the writer is gone and cancels its statement, which would
            # otherwise commit (in autocommit) as soon as the row is free.
            _wait_for_lock_waits(db, waiting=False)
            blocker.rollback()
        assert asyncio.run(sending.accept(accept_request(sender))).queued_recipients == 1
        assert writer._child is not None and writer._child is not first
    finally:
        sending.stop()
    assert stored(session, sender.account_id) == (2, 2, 98)


def test_writer_connections_keep_the_urls_options_and_use_generic_plans() -> None:
    generic = "-c plan_cache_mode=force_generic_plan"
    assert generic_plan_options("postgresql+psycopg://u@h/db") == generic
    url = "postgresql+psycopg://u@h/db?options=-c%20search_path%3Dmail"
    assert generic_plan_options(url) == f"-c search_path=mail {generic}"
