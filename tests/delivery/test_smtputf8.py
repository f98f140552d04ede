"""Non-ASCII addresses go out with SMTPUTF8 (RFC 6531), or fail 5.6.7 where it is not offered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import select

from outpost.config import Settings
from outpost.db import Database
from outpost.delivery.smtp_wire import Wire
from outpost.domains.models import Domain
from outpost.sending.models import BodyFormat, MessageSource, Recipient, RecipientStatus
from outpost.suppression.models import Suppression
from outpost.tenancy.service import get_operator
from tests.delivery.conftest import drain
from tests.delivery.support import make_domain, publish_dkim, publish_mx, queue_message
from tests.factories import make_account
from tests.support.dns_server import DNSServer
from tests.support.smtp_server import RemoteMX

UTF8_RECIPIENT = "josé@dest.test"
ASCII_RECIPIENT = "plain@dest.test"


def _queue_for(db: Database, dns_server: DNSServer, to: list[str]) -> dict[str, int]:
    """A message as SMTP submission stores it (MIME: no header to compose) for ``to``."""
    publish_mx(dns_server.zone, "dest.test")
    with db.session() as session:
        account = make_account(session)
        domain: Domain = make_domain(session, org_id=get_operator(session=session).id)
        publish_dkim(dns_server.zone, domain)
        return queue_message(
            session,
            account_id=account.id,
            domain=domain,
            to=to,
            body_format=BodyFormat.mime,
            source=MessageSource.smtp,
        ).recipients


def _recipient(db: Database, rid: int) -> Recipient:
    with db.session() as session:
        row = session.get(Recipient, rid)
        assert row is not None
        session.expunge(row)
        return row


@pytest.mark.parametrize("pipelining", [True, False])
def test_utf8_recipient_goes_out_with_smtputf8_and_ascii_without(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
    pipelining: bool,
) -> None:
    mx = remote_mx(smtputf8=True, pipelining=pipelining)
    ids = _queue_for(db, dns_server, [UTF8_RECIPIENT, ASCII_RECIPIENT])

    assert drain(db, delivery_settings(mx.port)) == 2

    [utf8] = mx.messages_for(UTF8_RECIPIENT)
    assert utf8.rcpt_tos == (UTF8_RECIPIENT,)
    assert "SMTPUTF8" in utf8.mail_options
    # An ASCII envelope goes out as it always did, even to a server offering SMTPUTF8.
    [ascii_only] = mx.messages_for(ASCII_RECIPIENT)
    assert ascii_only.mail_options == ()
    for rid in ids.values():
        row = _recipient(db, rid)
        assert (row.status, row.smtp_code, row.remote_host) == (
            RecipientStatus.delivered,
            250,
            "mx.dest.test",
        )


@pytest.mark.parametrize("pipelining", [True, False])
def test_server_without_smtputf8_fails_only_the_utf8_recipient(
    db: Database,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
    pipelining: bool,
) -> None:
    mx = remote_mx(smtputf8=False, pipelining=pipelining)
    ids = _queue_for(db, dns_server, ["first@dest.test", UTF8_RECIPIENT, ASCII_RECIPIENT])

    assert drain(db, delivery_settings(mx.port)) == 3

    refused = _recipient(db, ids[UTF8_RECIPIENT])
    assert (refused.status, refused.smtp_code, refused.enhanced_code) == (
        RecipientStatus.bounced,
        553,
        "5.6.7",
    )
    assert refused.reply == "553 5.6.7 Non-ASCII address, and mx.dest.test does not offer SMTPUTF8"
    assert (refused.remote_host, refused.attempts, refused.bounce_kind) == (
        "mx.dest.test",
        1,
        "soft",
    )
    # The others went through, over the same connection, without SMTPUTF8.
    delivered = [m for a in ("first@dest.test", ASCII_RECIPIENT) for m in mx.messages_for(a)]
    assert [t.mail_options for t in delivered] == [(), ()]
    assert delivered[0].peer == delivered[1].peer
    assert len(mx.received) == 2
    for address in ("first@dest.test", ASCII_RECIPIENT):
        assert _recipient(db, ids[address]).status is RecipientStatus.delivered
    with db.session() as session:
        # The address may be fine elsewhere: no suppression for this server's limitation.
        assert session.scalars(select(Suppression)).all() == []


@pytest.mark.parametrize("pipelining", [True, False])
def test_utf8_sender_alone_takes_smtputf8(
    remote_mx: Callable[..., RemoteMX], pipelining: bool
) -> None:
    mx = remote_mx(smtputf8=True, pipelining=pipelining)

    async def send() -> list[int]:
        wire = await Wire.open("127.0.0.1", mx.port, timeout=10)
        await wire.ehlo("outpost.test")
        items = [("rené@sender.test", "a@dest.test", b"Subject: hi\r\n\r\nhi\r\n")]
        codes = [reply.code async for reply in wire.transactions(items)]
        await wire.quit()
        return codes

    assert asyncio.run(send()) == [250]
    [received] = mx.received
    assert (received.mail_from, received.mail_options) == ("rené@sender.test", ("SMTPUTF8",))
