"""Claims: index-driven, one statement per batch, leased, and never losing a recipient."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import Envelope
from sqlalchemy import event, select

from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.delivery.queue import by_domain, claim_due_recipients
from outpost.delivery.worker import DeliveryWorker
from outpost.sending.models import Recipient, RecipientStatus
from tests.delivery.support import publish_mx, queue_message
from tests.factories import make_account
from tests.support.dns_server import DNSServer
from tests.support.smtp_server import RemoteMX


def _queue_many(db: Database, addresses: list[str]) -> list[int]:
    with db.session() as session:
        account = make_account(session)
        queued = queue_message(session, account_id=account.id, to=addresses)
        return list(queued.recipients.values())


def test_claims_are_leased_exclusive_and_grouped_by_domain(db: Database) -> None:
    ids = _queue_many(db, ["a@one.test", "b@two.test", "c@one.test"])
    with db.session() as session:
        first = claim_due_recipients(
            session=session, worker_id="w1", limit=2, lease=timedelta(minutes=5)
        )
    with db.session() as session:
        second = claim_due_recipients(
            session=session, worker_id="w2", limit=10, lease=timedelta(minutes=5)
        )
        nothing = claim_due_recipients(
            session=session, worker_id="w3", limit=10, lease=timedelta(minutes=5)
        )
    assert len(first) == 2 and len(second) == 1 and nothing == []
    assert {r.id for r in first + second} == set(ids)
    with db.session() as session:
        rows = {r.id: r for r in session.scalars(select(Recipient))}
        assert {rows[r.id].locked_by for r in first} == {"w1"}
        assert all(rows[i].next_attempt_at > utcnow() + timedelta(minutes=4) for i in ids)
    grouped = by_domain(first + second)
    assert sorted(grouped) == ["one.test", "two.test"] and len(grouped["one.test"]) == 2
    # A lease that ran out makes the recipient due again for anyone.
    with db.session() as session:
        again = claim_due_recipients(
            session=session,
            worker_id="w4",
            limit=10,
            lease=timedelta(minutes=5),
            now=utcnow() + timedelta(minutes=6),
        )
    assert {r.id for r in again} == set(ids)


def test_the_claim_is_one_statement_using_the_due_index(db: Database) -> None:
    _queue_many(db, ["a@one.test"])
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        statements.append((statement, params))

    with db.session() as session:
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            claim_due_recipients(session=session, worker_id="w", limit=5, lease=timedelta(1))
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        session.rollback()
    [(statement, params)] = [s for s in statements if "recipients" in s[0]]
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        if db.dialect == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, params)
        plan = " ".join(str(row) for row in cursor.fetchall())
        raw.rollback()
    assert "ix_recipients_due" in plan, plan


def _worker_env(settings: Settings, database: Database, mx_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    env.update(
        {
            "OUTPOST_CONFIG": "/nonexistent/outpost.toml",
            "OUTPOST_DATA_DIR": str(settings.data_dir),
            "OUTPOST_DATABASE_URL": database.url,
            "OUTPOST_SECRET_KEY": settings.installation_secret(),
            "OUTPOST_HOSTNAME": "worker.test",
            "OUTPOST_DNS_RESOLVER": settings.dns_resolver,
            "OUTPOST_DELIVERY_PORT": str(mx_port),
            "OUTPOST_DELIVERY_BATCH_SIZE": "10",
            "OUTPOST_DELIVERY_LEASE_SECONDS": "2",
            "OUTPOST_DELIVERY_POLL_SECONDS": "0.1",
        }
    )
    return env


def test_a_killed_worker_loses_nothing(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
) -> None:
    gate = threading.Event()

    def hold_until_gate(_mx: RemoteMX, stage: str, _env: Envelope | None) -> str | None:
        if stage == "data":
            gate.wait(timeout=60)  # blocks the whole server: the worker waits mid-transaction
        return None

    mx = remote_mx(hold_until_gate)
    domains = ["one.test", "two.test", "three.test"]
    for domain in domains:
        publish_mx(dns_server.zone, domain)
    addresses = [f"user{i}@{domains[i % 3]}" for i in range(30)]
    ids = _queue_many(db, addresses)
    settings = delivery_settings(mx.port, delivery_lease_seconds=2)

    worker = subprocess.Popen(
        [sys.executable, "-c", "from outpost.cli import main; main()", "worker"],
        env=_worker_env(settings, db, mx.port),
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Wait until the worker holds claims and a transaction is under way, then kill it.
        while mx.count("data") == 0:
            assert worker.poll() is None, "the worker process died on its own"
            threading.Event().wait(0.05)
        with db.session() as session:
            held = session.scalars(
                select(Recipient.id).where(Recipient.locked_by.like(f"%:{worker.pid}:%"))
            ).all()
        assert held, "the worker should hold claims in the middle of its batch"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    gate.set()

    # Another worker takes over once the dead worker's leases run out.
    survivor = DeliveryWorker(db, settings)
    for _ in range(600):
        asyncio.run(survivor.drain())
        with db.session() as session:
            statuses = session.scalars(select(Recipient.status).where(Recipient.id.in_(ids))).all()
        if set(statuses) == {RecipientStatus.delivered}:
            break
        threading.Event().wait(0.1)
    assert sorted(statuses) == [RecipientStatus.delivered] * len(ids)
    for address in addresses:
        assert len(mx.messages_for(address)) >= 1, address  # at least once, never lost
