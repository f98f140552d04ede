"""Queued mail reaches real SMTP servers on loopback, and every outcome is recorded."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes

import pytest
from aiosmtpd.smtp import Envelope
from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.db import Database
from outpost.delivery.verp import recipient_of
from outpost.domains.models import Domain
from outpost.events.models import DailyStats, Event, EventType
from outpost.sending.models import BodyFormat, Message, MessageSource, Recipient, RecipientStatus
from outpost.suppression.models import Suppression
from outpost.tenancy.service import get_operator
from tests.delivery.conftest import deliver_once, drain
from tests.delivery.support import (
    SECRET,
    make_domain,
    publish_dkim,
    publish_mx,
    queue_message,
    verify_dkim,
)
from tests.factories import make_account
from tests.support.dns_server import DNSServer
from tests.support.smtp_server import DROP, RemoteMX


def _setup(db: Database, dns_server: DNSServer, *, alert: str | None = None) -> tuple[int, int]:
    with db.session() as session:
        account = make_account(session)
        account.bounce_alert_email = alert
        domain = make_domain(session, org_id=get_operator(session=session).id)
        publish_dkim(dns_server.zone, domain)
        return account.id, domain.id


def _queue(
    db: Database, account_id: int, domain_id: int | None, **kwargs: object
) -> dict[str, int]:
    with db.session() as session:
        domain = session.get(Domain, domain_id) if domain_id else None
        return queue_message(
            session,
            account_id=account_id,
            domain=domain,
            **kwargs,  # type: ignore[arg-type]
        ).recipients


def _recipient(session: Session, rid: int) -> Recipient:
    row = session.get(Recipient, rid)
    assert row is not None
    return row


def _events(session: Session, rid: int) -> list[EventType]:
    return list(
        session.scalars(select(Event.type).where(Event.recipient_id == rid).order_by(Event.id))
    )


@pytest.mark.parametrize("pipelining", [True, False])
def test_accepting_mx_gets_signed_mail_of_both_formats(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
    pipelining: bool,
) -> None:
    mx = remote_mx(pipelining=pipelining)
    publish_mx(dns_server.zone, "dest.test")
    account_id, domain_id = _setup(db, dns_server)
    api = _queue(db, account_id, domain_id, to=["a@dest.test"], bcc=["hidden@dest.test"])
    mime = _queue(db, account_id, domain_id, to=["b@dest.test"], body_format=BodyFormat.mime)

    assert drain(db, delivery_settings(mx.port)) == 3

    for address in ("a@dest.test", "hidden@dest.test", "b@dest.test"):
        [received] = mx.messages_for(address)
        assert received.tls  # STARTTLS was offered, so it was used
        assert verify_dkim(received.content, dns_server) == ["rsa-sha256", "ed25519-sha256"]
        parsed = message_from_bytes(received.content)
        assert parsed["Bcc"] is None
        # The envelope sender is a VERP address naming exactly this recipient.
        rid = {**api, **mime}[address]
        assert received.mail_from.endswith("@rp.sender.test")
        assert recipient_of(secret=SECRET, address=received.mail_from) == rid
    assert "Hello  from" in mx.messages_for("b@dest.test")[0].content.decode()

    with db.session() as session:
        for rid in [*api.values(), *mime.values()]:
            row = _recipient(session, rid)
            assert row.status is RecipientStatus.delivered
            assert (row.attempts, row.smtp_code, row.remote_host) == (1, 250, "mx.dest.test")
            assert row.locked_by is None and row.finished_at is not None
            assert _events(session, rid) == [EventType.delivered]
        stats = session.scalars(select(DailyStats).where(DailyStats.account_id == account_id)).one()
        assert stats.delivered == 3


def test_temporary_failure_is_retried_then_delivered(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
) -> None:
    def defer_first(mx: RemoteMX, stage: str, _env: Envelope | None) -> str | None:
        if stage == "data" and mx.count("data") == 1:
            return "451 4.3.0 Try again later"
        return None

    mx = remote_mx(defer_first)
    publish_mx(dns_server.zone, "dest.test")
    account_id, domain_id = _setup(db, dns_server)
    [rid] = _queue(db, account_id, domain_id, to=["a@dest.test"]).values()
    settings = delivery_settings(mx.port)

    assert deliver_once(db, settings) == 1
    with db.session() as session:
        row = _recipient(session, rid)
        assert row.status is RecipientStatus.deferred
        assert (row.smtp_code, row.enhanced_code, row.bounce_kind) == (451, "4.3.0", "soft")
        assert row.reply == "451 4.3.0 Try again later"

    assert drain(db, settings) == 1
    with db.session() as session:
        row = _recipient(session, rid)
        assert (row.status, row.attempts) == (RecipientStatus.delivered, 2)
        assert _events(session, rid) == [EventType.deferred, EventType.delivered]
        stats = session.scalars(select(DailyStats).where(DailyStats.account_id == account_id)).one()
        assert (stats.deferred, stats.delivered) == (1, 1)
    assert len(mx.messages_for("a@dest.test")) == 1


def test_back_off_grows_and_expires_at_the_deadline(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
) -> None:
    mx = remote_mx(lambda _mx, stage, _env: "421 4.7.0 Busy" if stage == "data" else None)
    publish_mx(dns_server.zone, "dest.test")
    account_id, domain_id = _setup(db, dns_server)
    [rid] = _queue(db, account_id, domain_id, to=["a@dest.test"]).values()
    settings = delivery_settings(
        mx.port,
        delivery_retry_base_seconds=600,
        delivery_retry_max_seconds=7200,
        delivery_deadline_seconds=2000,
    )
    assert deliver_once(db, settings) == 1
    with db.session() as session:
        row = _recipient(session, rid)
        first_wait = row.next_attempt_at - row.last_attempt_at  # type: ignore[operator]
        assert row.status is RecipientStatus.deferred and first_wait.total_seconds() == 600
        row.next_attempt_at = row.last_attempt_at  # type: ignore[assignment]
    assert deliver_once(db, settings) == 1
    with db.session() as session:
        row = _recipient(session, rid)
        assert (row.next_attempt_at - row.last_attempt_at).total_seconds() == 1200  # type: ignore[operator]
        row.next_attempt_at = row.last_attempt_at  # type: ignore[assignment]
    # The third wait (2400 s) would end past the 2000 s deadline: the recipient expires.
    assert deliver_once(db, settings) == 1
    with db.session() as session:
        row = _recipient(session, rid)
        assert (row.status, row.attempts, row.bounce_kind) == (RecipientStatus.expired, 3, "soft")
        assert _events(session, rid)[-1] is EventType.expired
        stats = session.scalars(select(DailyStats).where(DailyStats.account_id == account_id)).one()
        assert (stats.deferred, stats.expired) == (2, 1)
        assert session.scalars(select(Suppression)).all() == []


@pytest.mark.parametrize("pipelining", [True, False])
def test_permanent_failure_bounces_suppresses_and_alerts(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
    pipelining: bool,
) -> None:
    def refuse_gone(_mx: RemoteMX, stage: str, _env: Envelope | None) -> str | None:
        return (
            "550 5.1.1 <gone@dest.test>: user unknown" if stage == "rcpt:gone@dest.test" else None
        )

    mx = remote_mx(refuse_gone, pipelining=pipelining)
    publish_mx(dns_server.zone, "dest.test")
    publish_mx(dns_server.zone, "customer.test")
    account_id, domain_id = _setup(db, dns_server, alert="alerts@customer.test")
    ids = _queue(db, account_id, domain_id, to=["gone@dest.test", "ok@dest.test"])

    drain(db, delivery_settings(mx.port))

    with db.session() as session:
        gone = _recipient(session, ids["gone@dest.test"])
        assert (gone.status, gone.smtp_code, gone.enhanced_code) == (
            RecipientStatus.bounced,
            550,
            "5.1.1",
        )
        assert gone.bounce_kind == "hard" and "user unknown" in (gone.reply or "")
        assert _recipient(session, ids["ok@dest.test"]).status is RecipientStatus.delivered
        [entry] = session.scalars(select(Suppression)).all()
        assert (entry.account_id, entry.address, entry.reason) == (
            account_id,
            "gone@dest.test",
            "hard_bounce",
        )
        assert "user unknown" in entry.detail
        alert = session.scalars(select(Message).where(Message.source == MessageSource.system)).one()
        assert alert.account_id == account_id and alert.mail_from == "postmaster@outpost.test"
        stats = session.scalars(select(DailyStats).where(DailyStats.account_id == account_id)).one()
        assert (stats.bounced, stats.delivered) == (1, 1)  # the alert is not customer traffic
    # The same workers delivered the alert, from the null sender so it can never bounce back.
    [notice] = mx.messages_for("alerts@customer.test")
    assert notice.mail_from in ("", "<>")
    text = notice.content.decode()
    assert "gone@dest.test" in text and "Bounce alert" in text


def test_dropped_connection_mid_data_is_retried(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
) -> None:
    def drop_first(mx: RemoteMX, stage: str, _env: Envelope | None) -> str | None:
        return DROP if stage == "data" and mx.count("data") == 1 else None

    mx = remote_mx(drop_first)
    publish_mx(dns_server.zone, "dest.test")
    account_id, domain_id = _setup(db, dns_server)
    ids = _queue(db, account_id, domain_id, to=["a@dest.test", "b@dest.test"])
    settings = delivery_settings(mx.port)

    deliver_once(db, settings)
    with db.session() as session:
        statuses = sorted(_recipient(session, rid).status.value for rid in ids.values())
        # The first transaction lost its connection; the session reconnected for the second.
        assert statuses == ["deferred", "delivered"]
    drain(db, settings)
    with db.session() as session:
        assert {_recipient(session, rid).status for rid in ids.values()} == {
            RecipientStatus.delivered
        }
    assert all(len(mx.messages_for(a)) == 1 for a in ids)


def test_null_mx_missing_domain_and_a_fallback(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
) -> None:
    mx = remote_mx()
    zone = dns_server.zone
    zone.add("nullmx.test", "MX", "0 .")
    zone.add("amx.test", "A", "127.0.0.1")  # no MX at all: the domain is its own mail host
    zone.add("noaddr.test", "TXT", '"v=spf1 -all"')  # exists, but no MX and no address
    account_id, domain_id = _setup(db, dns_server)
    ids = _queue(
        db,
        account_id,
        domain_id,
        to=["x@nullmx.test", "y@amx.test", "z@nxdomain.test", "w@noaddr.test"],
    )
    drain(db, delivery_settings(mx.port))
    with db.session() as session:
        null = _recipient(session, ids["x@nullmx.test"])
        assert (null.status, null.enhanced_code, null.bounce_kind) == (
            RecipientStatus.bounced,
            "5.1.10",
            "hard",
        )
        assert _recipient(session, ids["y@amx.test"]).status is RecipientStatus.delivered
        missing = _recipient(session, ids["z@nxdomain.test"])
        assert (missing.status, missing.enhanced_code) == (RecipientStatus.bounced, "5.1.2")
        assert _recipient(session, ids["w@noaddr.test"]).status is RecipientStatus.bounced
    assert len(mx.messages_for("y@amx.test")) == 1


def test_falls_back_to_the_next_mx_when_the_first_is_down(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
) -> None:
    mx = remote_mx()
    zone = dns_server.zone
    zone.add("dest.test", "MX", "5 down.dest.test.")
    zone.add("dest.test", "MX", "10 up.dest.test.")
    zone.add("down.dest.test", "A", "127.0.0.2")  # nothing listens there
    zone.add("up.dest.test", "A", "127.0.0.1")
    account_id, domain_id = _setup(db, dns_server)
    [rid] = _queue(db, account_id, domain_id, to=["a@dest.test"]).values()
    drain(db, delivery_settings(mx.port))
    with db.session() as session:
        row = _recipient(session, rid)
        assert (row.status, row.remote_host) == (RecipientStatus.delivered, "up.dest.test")


def test_unreachable_mail_host_defers(
    db: Database,
    dns_server: DNSServer,
    delivery_settings: Callable[..., Settings],
) -> None:
    publish_mx(dns_server.zone, "dest.test", address="127.0.0.2")
    account_id, domain_id = _setup(db, dns_server)
    [rid] = _queue(db, account_id, domain_id, to=["a@dest.test"]).values()
    from tests.support.dns_server import free_port

    deliver_once(
        db,
        delivery_settings(
            free_port(), delivery_retry_base_seconds=60, delivery_retry_max_seconds=60
        ),
    )
    with db.session() as session:
        row = _recipient(session, rid)
        assert (row.status, row.attempts, row.smtp_code) == (RecipientStatus.deferred, 1, None)
        assert row.next_attempt_at > row.last_attempt_at  # type: ignore[operator]


def test_suppressed_after_acceptance_is_not_attempted(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
) -> None:
    from outpost.suppression.models import SuppressionReason
    from outpost.suppression.service import add_suppression

    mx = remote_mx()
    publish_mx(dns_server.zone, "dest.test")
    account_id, domain_id = _setup(db, dns_server)
    [rid] = _queue(db, account_id, domain_id, to=["Blocked@dest.test"]).values()
    with db.session() as session:
        add_suppression(
            session=session,
            account_id=account_id,
            address="blocked@dest.test",
            reason=SuppressionReason.manual,
        )
    drain(db, delivery_settings(mx.port))
    with db.session() as session:
        assert _recipient(session, rid).status is RecipientStatus.suppressed
        assert _events(session, rid) == [EventType.suppressed]
    assert mx.received == []


def test_relay_host_with_auth_and_starttls(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
) -> None:
    relay = remote_mx(auth=("relayuser", "relaypass"))
    account_id, domain_id = _setup(db, dns_server)
    # No DNS for the destination at all: everything goes to the smarthost.
    [rid] = _queue(db, account_id, domain_id, to=["a@elsewhere.test"]).values()
    settings = delivery_settings(
        25,
        relay_host=f"127.0.0.1:{relay.port}",
        relay_username="relayuser",
        relay_password="relaypass",
        relay_tls_verify=False,
    )
    drain(db, settings)
    [received] = relay.messages_for("a@elsewhere.test")
    assert received.tls
    with db.session() as session:
        assert _recipient(session, rid).status is RecipientStatus.delivered


def test_broken_message_is_bounced_softly_and_unexpected_errors_park(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
) -> None:
    from outpost.sending.models import MessageBody

    mx = remote_mx()
    publish_mx(dns_server.zone, "dest.test")
    account_id, domain_id = _setup(db, dns_server)
    broken = _queue(db, account_id, domain_id, to=["a@dest.test"])
    bad_key = _queue(db, account_id, None, to=["b@dest.test"])
    with db.session() as session:
        body = session.get(MessageBody, _recipient(session, broken["a@dest.test"]).message_id)
        assert body is not None
        body.content = b'{"from": "x@sender.test", "subject": "no body", "message_id": "m@x"}'
        # A second domain whose key cannot be decrypted: an internal error, not the sender's.
        other = Domain(
            org_id=get_operator(session=session).id,
            name="other.test",
            verification_token="t",
            dkim_selector="s",
            dkim_private_key="not-encrypted",
            dkim_public_key="",
            return_path_host="rp.other.test",
        )
        session.add(other)
        session.flush()
        message = session.get(Message, _recipient(session, bad_key["b@dest.test"]).message_id)
        assert message is not None
        message.sender_domain_id = other.id
    settings = delivery_settings(mx.port, delivery_park_seconds=3000)
    drain(db, settings)
    with db.session() as session:
        row = _recipient(session, broken["a@dest.test"])
        assert (row.status, row.bounce_kind, row.enhanced_code) == (
            RecipientStatus.bounced,
            "soft",
            "5.6.0",
        )
        parked = _recipient(session, bad_key["b@dest.test"])
        assert (parked.status, parked.locked_by) == (RecipientStatus.deferred, "parked")
        assert (parked.next_attempt_at - parked.created_at).total_seconds() > 2900  # type: ignore[operator]
        assert session.scalars(select(Suppression)).all() == []
    assert mx.received == []
