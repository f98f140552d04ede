"""The reads behind the answers to MAIL FROM and RCPT TO (``smtp/checks.py``)."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import text

from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.config import Settings
from outpost.db import Database
from outpost.sending.service import Sending
from outpost.sending.smtp import replies
from outpost.sending.smtp.auth import Login
from outpost.sending.smtp.checks import BatchedChecks, Checks, SubmitterState, checks_for
from outpost.sending.smtp.server import submission_handler
from outpost.suppression.models import SuppressionReason
from outpost.suppression.service import add_suppression
from tests.factories import Factory, make_account


@pytest.fixture
def account(db: Database, factory: Factory) -> DeliveryAccount:
    customer = factory.customer()
    with db.session() as session:
        account = make_account(session, org_id=customer.org_id, remaining=7)
        account.ip_allowlist = ["192.0.2.0/24"]
        add_suppression(
            session=session,
            account_id=account.id,
            address="gone@dest.test",
            reason=SuppressionReason.hard_bounce,
        )
        return account


def _ask(checks: Checks, *questions: tuple[int, str | None]) -> list[SubmitterState | None]:
    async def ask() -> list[SubmitterState | None]:
        try:
            return list(await asyncio.gather(*(checks.state(*q) for q in questions)))
        finally:
            await checks.close()

    return asyncio.run(ask())


def test_state_of_account_and_recipients(db: Database, account: DeliveryAccount) -> None:
    checks = checks_for(db.engine)
    assert isinstance(checks, BatchedChecks) == (db.dialect == "postgresql")
    mail, listed, clear, missing = _ask(
        checks,
        (account.id, None),
        (account.id, "gone@dest.test"),
        (account.id, "alice@dest.test"),
        (account.id + 1000, None),
    )
    expected = SubmitterState(
        status=AccountStatus.enabled.value,
        ip_allowlist=["192.0.2.0/24"],
        remaining=7,
        suppression_enabled=True,
        listed=False,
    )
    assert mail == expected and clear == expected
    assert listed is not None and listed.listed
    assert missing is None


def _postgresql_only(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite answers inline; nothing is batched")


def test_questions_asked_together_share_one_read(db: Database, account: DeliveryAccount) -> None:
    _postgresql_only(db)
    checks = checks_for(db.engine)
    assert isinstance(checks, BatchedChecks)
    reads: list[int] = []
    read = checks._read

    async def counted(keys: list[Any]) -> Any:
        reads.append(len(keys))
        return await read(keys)

    checks._read = counted  # type: ignore[method-assign]
    questions = [(account.id, f"r{n}@dest.test") for n in range(20)] + [(account.id, None)]
    answers = _ask(checks, *questions)
    assert reads == [21]
    assert all(answer is not None and not answer.listed for answer in answers)


def test_a_broken_connection_fails_one_read_and_is_replaced(
    db: Database, account: DeliveryAccount
) -> None:
    _postgresql_only(db)
    checks = BatchedChecks(db.engine.url.set(drivername="postgresql").render_as_string(False))

    async def scenario() -> tuple[SubmitterState | None, SubmitterState | None]:
        first = await checks.state(account.id)
        assert checks._connection is not None
        backend = checks._connection.pgconn.backend_pid
        with db.engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        with pytest.raises(psycopg.OperationalError):
            await checks.state(account.id)
        again = await checks.state(account.id)
        await checks.close()
        return first, again

    first, again = asyncio.run(scenario())
    assert first is not None and first == again


def test_a_connection_the_server_closes_while_idle_is_replaced_before_the_next_read(
    db: Database, account: DeliveryAccount
) -> None:
    _postgresql_only(db)
    checks = checks_for(db.engine)
    assert isinstance(checks, BatchedChecks)

    async def scenario() -> SubmitterState | None:
        await checks.state(account.id)
        connection = checks._connection
        assert connection is not None
        with db.engine.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": connection.pgconn.backend_pid}
            )
        for _ in range(1000):
            if connection.closed:
                break
            await asyncio.sleep(0.01)
        assert connection.closed
        answer = await checks.state(account.id)
        await checks.close()
        return answer

    assert asyncio.run(scenario()) is not None


def test_reads_are_planned_once(db: Database, account: DeliveryAccount) -> None:
    _postgresql_only(db)
    checks = checks_for(db.engine)
    assert isinstance(checks, BatchedChecks)

    async def scenario() -> list[Any]:
        for _ in range(3):
            await checks.state(account.id, "alice@dest.test")
        assert checks._connection is not None
        result = checks._connection.pgconn.exec_(
            b"SELECT current_setting('plan_cache_mode'), generic_plans, custom_plans"
            b" FROM pg_prepared_statements"
        )
        await checks.close()
        return [result.get_value(0, column) for column in range(3)]

    assert asyncio.run(scenario()) == [b"force_generic_plan", b"3", b"0"]


class _Answers:
    """Checks that answer from a fixed script."""

    def __init__(self, answer: SubmitterState | Exception | None) -> None:
        self.answer = answer

    async def state(self, account_id: int, address: str | None = None) -> SubmitterState | None:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("answer", "reply"),
    [
        (psycopg.OperationalError("server closed the connection"), replies.CHECK_FAILED),
        (None, replies.ACCOUNT_GONE),
    ],
)
def test_mail_and_rcpt_when_the_account_cannot_be_read(
    settings: Settings, db: Database, answer: Exception | None, reply: str
) -> None:
    handler = submission_handler(settings, db, Sending(db, settings))
    handler.checks = _Answers(answer)

    async def commands() -> tuple[str, str]:
        session = Session(asyncio.get_running_loop())
        session.peer = ("127.0.0.1", 50000)
        session.auth_data = Login(account_id=1, username="someone")
        envelope = Envelope()
        mail = await handler.handle_MAIL(None, session, envelope, "shop@example.test", [])  # type: ignore[arg-type]
        rcpt = await handler.handle_RCPT(None, session, envelope, "bob@dest.test", [])  # type: ignore[arg-type]
        return mail, rcpt

    assert asyncio.run(commands()) == (reply, reply)
