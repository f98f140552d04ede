"""Bounces arriving later at the bounce server are matched by VERP and recorded."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from outpost.config import Settings
from outpost.db import Database
from outpost.delivery.bounces import bounce_service, parse_bounce
from outpost.domains.models import Domain
from outpost.events.models import DailyStats, Event, EventType
from outpost.runtime import Service
from outpost.sending.models import Message, MessageSource, Recipient, RecipientStatus
from outpost.suppression.models import Suppression
from outpost.tenancy.service import get_operator
from tests.delivery.conftest import drain
from tests.delivery.support import make_domain, publish_dkim, publish_mx, queue_message
from tests.factories import make_account
from tests.support.dns_server import DNSServer, free_port
from tests.support.smtp_server import RemoteMX


class ServiceThread:
    """Runs one runtime service on its own event loop in a thread."""

    def __init__(self, service: Service) -> None:
        self.loop = asyncio.new_event_loop()
        self.stop_event = asyncio.Event()
        self.thread = threading.Thread(target=self._run, args=(service,), daemon=True)
        self.ready = threading.Event()

    def _run(self, service: Service) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.ready.set()
            await service(self.stop_event)

        self.loop.run_until_complete(main())

    def start(self) -> ServiceThread:
        self.thread.start()
        self.ready.wait()
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join()
        self.loop.close()


def _wait_for_port(port: int) -> None:
    for _ in range(200):  # the server thread may still be binding its port
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except ConnectionRefusedError:
            threading.Event().wait(0.05)
    raise AssertionError("bounce server did not come up")


def _send(port: int, mail_from: str, rcpt: str, content: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail(mail_from, [rcpt], content)


def dsn(original_rcpt: str, verp: str, *, status: str = "5.1.1", action: str = "failed") -> bytes:
    """An RFC 3464 delivery status notification as a remote MTA would send it."""
    return (
        f"From: MAILER-DAEMON@mx.dest.test\r\nTo: {verp}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.dest.test\r\n\r\n"
        f"Final-Recipient: rfc822; {original_rcpt}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        "Remote-MTA: dns; store.dest.test\r\n"
        f"Diagnostic-Code: smtp; 550 {status} <{original_rcpt}>: mailbox does not exist\r\n"
        "\r\n--B--\r\n"
    ).encode()


@pytest.fixture
def bounce_server(settings: Settings, db: Database) -> Iterator[Callable[[], int]]:
    threads: list[ServiceThread] = []

    def start() -> int:
        port = free_port()
        config = settings.model_copy(update={"bounce_port": port, "bounce_host": "127.0.0.1"})
        threads.append(ServiceThread(bounce_service(db, config)).start())
        _wait_for_port(port)
        return port

    yield start
    for thread in threads:
        thread.stop()


def test_a_later_dsn_bounces_and_suppresses_the_recipient(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
    bounce_server: Callable[[], int],
) -> None:
    mx = remote_mx()
    publish_mx(dns_server.zone, "dest.test")
    publish_mx(dns_server.zone, "customer.test")
    with db.session() as session:
        account = make_account(session)
        account.bounce_alert_email = "alerts@customer.test"
        domain = make_domain(session, org_id=get_operator(session=session).id)
        publish_dkim(dns_server.zone, domain)
        queued = queue_message(
            session, account_id=account.id, domain=domain, to=["gone@dest.test", "ok@dest.test"]
        )
        account_id = account.id
    settings = delivery_settings(mx.port)
    drain(db, settings)
    [delivered] = mx.messages_for("gone@dest.test")
    port = bounce_server()

    # The remote server accepted the message, then found the mailbox gone and sent a DSN.
    _send(port, "", delivered.mail_from, dsn("gone@dest.test", delivered.mail_from))

    gone_id = queued.recipients["gone@dest.test"]
    with db.session() as session:
        row = session.get(Recipient, gone_id)
        assert row is not None
        assert (row.status, row.enhanced_code, row.bounce_kind, row.remote_host) == (
            RecipientStatus.bounced,
            "5.1.1",
            "hard",
            "store.dest.test",
        )
        assert "mailbox does not exist" in (row.reply or "")
        ok = session.get(Recipient, queued.recipients["ok@dest.test"])
        assert ok is not None and ok.status is RecipientStatus.delivered
        types = session.scalars(
            select(Event.type).where(Event.recipient_id == gone_id).order_by(Event.id)
        ).all()
        assert types == [EventType.delivered, EventType.bounced]
        [entry] = session.scalars(select(Suppression)).all()
        assert (entry.address, entry.reason) == ("gone@dest.test", "hard_bounce")
        stats = session.scalars(select(DailyStats).where(DailyStats.account_id == account_id)).one()
        assert (stats.delivered, stats.bounced) == (2, 1)
        assert session.scalar(select(Message).where(Message.source == MessageSource.system))

    # The alert is delivered by the workers like any message.
    drain(db, settings)
    assert "gone@dest.test" in mx.messages_for("alerts@customer.test")[0].content.decode()


def test_the_bounce_server_refuses_what_is_not_its_own(
    db: Database, bounce_server: Callable[[], int]
) -> None:
    with db.session() as session:
        account = make_account(session)
        domain = make_domain(session, org_id=get_operator(session=session).id)
        queued = queue_message(session, account_id=account.id, domain=domain, to=["a@dest.test"])
        rid = queued.recipients["a@dest.test"]
    port = bounce_server()
    forged = f"b+{rid}-000000000000@rp.sender.test"
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail("")
        assert client.rcpt(forged)[0] == 550
        assert client.rcpt("someone@elsewhere.test")[0] == 550
        assert client.rcpt("postmaster@rp.sender.test")[0] == 250
    with db.session() as session:
        row = session.get(Recipient, rid)
        assert row is not None and row.status is RecipientStatus.queued
        assert session.scalar(select(Domain.return_path_host)) == "rp.sender.test"


def test_bounce_formats() -> None:
    report = parse_bounce(dsn("x@dest.test", "b+1-x@rp.test"))
    assert report is not None and report.permanent and report.status == "5.1.1"
    delayed = parse_bounce(dsn("x@dest.test", "b+1-x@rp.test", status="4.4.7", action="delayed"))
    assert delayed is not None and not delayed.permanent
    qmail = (
        b"From: MAILER-DAEMON@mx.dest.test\r\nSubject: failure notice\r\n\r\n"
        b"Hi. This is the qmail-send program at mx.dest.test.\r\n"
        b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
        b"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
        b"<gone@dest.test>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
        b"--- Below this line is a copy of the message.\r\n"
    )
    report = parse_bounce(qmail)
    assert report is not None and report.permanent and report.status == "5.1.1"
    vacation = b"From: a@dest.test\r\nSubject: Out of office\r\n\r\nI am away until Monday.\r\n"
    assert parse_bounce(vacation) is None
