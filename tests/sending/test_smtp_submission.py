"""SMTP submission through real sockets with smtplib: TLS, AUTH, per-recipient answers."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.config import Settings
from outpost.db import Database
from outpost.domains.models import Domain, DomainStatus
from outpost.security import hash_password
from outpost.sending.models import BodyFormat, Message, MessageBody, Recipient
from outpost.sending.smtp import handler
from outpost.suppression.models import SuppressionReason
from outpost.suppression.service import add_suppression
from tests.factories import Factory, associate, make_account, make_domain
from tests.sending.conftest import stored
from tests.support.smtp import SubmissionServer, run_submission

PASSWORD = "correct horse battery staple"


@pytest.fixture
def smtp_server(settings: Settings, db: Database) -> Iterator[SubmissionServer]:
    with run_submission(settings, db) as server:
        yield server


@pytest.fixture
def account(db: Database, factory: Factory) -> DeliveryAccount:
    customer = factory.customer()
    with db.session() as session:
        account = make_account(
            session, org_id=customer.org_id, remaining=100, smtp_password=PASSWORD
        )
        associate(
            session, account, make_domain(session, org_id=customer.org_id, name="example.test")
        )
        return account


def connect(server: SubmissionServer) -> smtplib.SMTP:
    client = smtplib.SMTP(server.host, server.starttls_port, timeout=30)
    client.ehlo("client.test")
    client.starttls(context=server.client_context)
    client.ehlo("client.test")
    return client


def logged_in(server: SubmissionServer, account: DeliveryAccount) -> smtplib.SMTP:
    client = connect(server)
    client.login(account.username, PASSWORD)
    return client


def mail(to: str = "alice@dest.test", sender: str = "shop@example.test", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Shop <{sender}>"
    message["To"] = to
    message["Subject"] = "Hello"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Hi there.\n")
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def test_starttls_login_and_send(
    smtp_server: SubmissionServer, account: DeliveryAccount, session: Session
) -> None:
    client = connect(smtp_server)
    features = client.esmtp_features
    for feature in ("pipelining", "8bitmime", "smtputf8", "enhancedstatuscodes", "size"):
        assert feature in features
    assert features["auth"].split() == ["LOGIN", "PLAIN"]
    assert int(features["size"]) == 25 * 1024 * 1024
    client.login(account.username, PASSWORD)
    client.mail("shop@example.test")
    client.rcpt("alice@dest.test")
    code, reply = client.data(mail())
    client.quit()
    assert code == 250
    assert reply.startswith(b"2.0.0 Ok: queued as <")
    message_id = reply.decode().split("<")[1].rstrip(">")

    assert stored(session, account.id) == (1, 1, 99)
    row = session.scalars(select(Message).where(Message.account_id == account.id)).one()
    assert row.message_id == message_id and row.source == "smtp" and row.subject == "Hello"
    body = session.get_one(MessageBody, row.id)
    assert body.format is BodyFormat.mime
    assert body.content.startswith(f"Message-ID: <{message_id}>\r\n".encode())
    assert b"\r\nSubject: Hello\r\n" in body.content


def test_implicit_tls_with_auth_login(
    smtp_server: SubmissionServer, account: DeliveryAccount, session: Session
) -> None:
    with smtplib.SMTP_SSL(
        smtp_server.host, smtp_server.tls_port, context=smtp_server.client_context, timeout=30
    ) as client:
        client.ehlo("client.test")
        client.user, client.password = account.username, PASSWORD
        code, _ = client.auth("LOGIN", client.auth_login)
        assert code == 235
        client.sendmail("shop@example.test", ["bob@dest.test"], mail("bob@dest.test"))
    assert stored(session, account.id) == (1, 1, 99)


def test_auth_needs_tls_and_mail_needs_auth(
    smtp_server: SubmissionServer, account: DeliveryAccount
) -> None:
    client = smtplib.SMTP(smtp_server.host, smtp_server.starttls_port, timeout=30)
    client.ehlo("client.test")
    assert "auth" not in client.esmtp_features
    code, reply = client.docmd("AUTH", "PLAIN")
    assert code == 530 and reply.startswith(b"5.7.0 ") and b"STARTTLS" in reply
    client.starttls(context=smtp_server.client_context)
    client.ehlo("client.test")
    code, _ = client.docmd("MAIL", "FROM:<shop@example.test>")
    assert code == 530
    client.quit()


def test_wrong_password_then_throttled(
    smtp_server: SubmissionServer, account: DeliveryAccount
) -> None:
    client = connect(smtp_server)

    def plain(password: str) -> tuple[int, bytes]:
        client.user, client.password = account.username, password
        return client.auth("PLAIN", client.auth_plain, initial_response_ok=True)

    for _ in range(5):
        with pytest.raises(smtplib.SMTPAuthenticationError) as failure:
            plain("wrong password")
        assert failure.value.smtp_code == 535
    with pytest.raises(smtplib.SMTPAuthenticationError) as throttled:
        plain(PASSWORD)
    assert throttled.value.smtp_code == 454
    assert b"Too many failed logins" in throttled.value.smtp_error
    client.quit()


def test_failed_logins_are_throttled_per_address_and_per_username(
    smtp_server: SubmissionServer, account: DeliveryAccount, db: Database, factory: Factory
) -> None:
    with db.session() as session:
        other = make_account(session, org_id=factory.customer().org_id, smtp_password=PASSWORD)

    def login(source: str, username: str, password: str) -> int:
        client = smtplib.SMTP(
            smtp_server.host, smtp_server.starttls_port, timeout=30, source_address=(source, 0)
        )
        client.starttls(context=smtp_server.client_context)
        client.ehlo("client.test")
        client.user, client.password = username, password
        try:  # one attempt: login() would try PLAIN, then LOGIN
            return client.auth("PLAIN", client.auth_plain, initial_response_ok=True)[0]
        except smtplib.SMTPAuthenticationError as failure:
            return failure.smtp_code
        finally:
            client.quit()

    # Wrong passwords for one username, each from another address: that username waits…
    for last_byte in range(10, 15):
        assert login(f"127.0.0.{last_byte}", account.username, "wrong password") == 535
    assert login("127.0.0.20", account.username, PASSWORD) == 454
    # …and other usernames from those addresses do not.
    assert login("127.0.0.10", other.username, PASSWORD) == 235
    # Wrong usernames from one address: that address waits, whichever username it tries.
    for n in range(5):
        assert login("127.0.0.30", f"nobody{n}", PASSWORD) == 535
    assert login("127.0.0.30", other.username, PASSWORD) == 454
    assert login("127.0.0.31", other.username, PASSWORD) == 235


def test_utf8_addresses_need_smtputf8(
    smtp_server: SubmissionServer, account: DeliveryAccount, session: Session
) -> None:
    content = (
        "From: José <josé@example.test>\r\nTo: ünal@bücher.test\r\nSubject: Olá\r\n\r\nOi\r\n"
    ).encode()
    client = logged_in(smtp_server, account)
    client.command_encoding = "utf-8"  # what smtplib does only when asked for SMTPUTF8
    assert client.mail("shop@example.test")[0] == 250
    code, reply = client.rcpt("ünal@bücher.test")
    assert (code, reply[:6]) == (553, b"5.6.7 ") and b"SMTPUTF8" in reply
    client.rset()
    refused = client.sendmail("josé@example.test", ["ünal@bücher.test"], content, ["SMTPUTF8"])
    assert refused == {}
    client.quit()
    assert stored(session, account.id) == (1, 1, 99)
    message = session.scalars(select(Message).where(Message.account_id == account.id)).one()
    assert message.mail_from == "josé@example.test"
    recipient = session.scalars(select(Recipient).where(Recipient.account_id == account.id)).one()
    assert recipient.address == "ünal@xn--bcher-kva.test"


def test_per_recipient_answers(
    smtp_server: SubmissionServer, account: DeliveryAccount, db: Database, session: Session
) -> None:
    with db.session() as s:
        add_suppression(
            session=s, account_id=account.id, address="gone@dest.test",
            reason=SuppressionReason.hard_bounce,
        )  # fmt: skip
        row = s.get_one(DeliveryAccount, account.id)
        row.remaining, row.plan_messages = 2, 2
    client = logged_in(smtp_server, account)
    client.mail("shop@example.test")
    code, reply = client.rcpt("Gone@dest.test")
    assert (code, reply[:5]) == (550, b"5.7.1") and b"suppression list" in reply
    code, reply = client.rcpt("not-an-address")
    assert code == 553 and reply.startswith(b"5.1.3")
    assert client.rcpt("a@dest.test")[0] == 250
    assert client.rcpt("b@dest.test")[0] == 250
    code, reply = client.rcpt("c@dest.test")
    assert code == 452 and reply.startswith(b"4.7.1") and b"no messages left" in reply
    code, _ = client.data(mail("a@dest.test, b@dest.test"))
    assert code == 250
    client.quit()
    assert stored(session, account.id) == (1, 2, 0)


def test_recipient_limit(
    smtp_server: SubmissionServer, account: DeliveryAccount, settings: Settings
) -> None:
    client = logged_in(smtp_server, account)
    client.mail("shop@example.test")
    for i in range(settings.max_recipients_per_message):
        assert client.rcpt(f"r{i}@dest.test")[0] == 250
    code, reply = client.rcpt("one-too-many@dest.test")
    assert code == 452 and reply.startswith(b"4.5.3")
    client.quit()


def test_oversized_message_is_refused(
    smtp_server: SubmissionServer, account: DeliveryAccount, settings: Settings, session: Session
) -> None:
    client = logged_in(smtp_server, account)
    client.mail("shop@example.test")
    client.rcpt("alice@dest.test")
    big = mail() + (b"x" * 998 + b"\r\n") * (settings.max_message_size // 1000 + 10)
    code, reply = client.data(big)
    assert (code, reply[:6]) == (552, b"5.3.4 ")
    code, reply = client.docmd("MAIL", f"FROM:<shop@example.test> SIZE={len(big)}")
    assert (code, reply[:6]) == (552, b"5.3.4 ")
    client.quit()
    assert stored(session, account.id) == (0, 0, 100)


@pytest.mark.parametrize(
    "payload",
    [
        b"From: shop@example.test\r\nSubject: x\r\n\r\nhello\n.\nMAIL FROM:<x@example.test>\r\n",
        b"From: shop@example.test\r\nSubject: x\r\n\r\nhello\r.\rMAIL FROM:<x@example.test>\r\n",
        b"From: shop@example.test\r\nSubject: x\r\n\r\nbare\nline\r\n",
    ],
)
def test_smtp_smuggling_is_refused(
    smtp_server: SubmissionServer, account: DeliveryAccount, session: Session, payload: bytes
) -> None:
    client = logged_in(smtp_server, account)
    client.mail("shop@example.test")
    client.rcpt("alice@dest.test")
    code, _ = client.docmd("DATA")
    assert code == 354
    client.send(payload + b".\r\n")
    code, reply = client.getreply()
    assert code == 550 and reply.startswith(b"5.6.0") and b"bare CR or LF" in reply
    # The session goes on normally: nothing was read as a second command or message.
    assert client.noop()[0] == 250
    client.quit()
    assert stored(session, account.id) == (0, 0, 100)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"Subject: no sender\r\n\r\nbody\r\n", b"no From header"),
        (b"From: shop@example.test\r\nthis is not a header\r\n\r\nbody\r\n", b"header line 2"),
        (b"From: a@example.test, b@example.test\r\n\r\nbody\r\n", b"exactly one address"),
        (b"From: shop@example.test\r\nFrom: shop@example.test\r\n\r\nx\r\n", b"2 From headers"),
    ],
)
def test_malformed_messages_are_refused(
    smtp_server: SubmissionServer,
    account: DeliveryAccount,
    session: Session,
    content: bytes,
    needle: bytes,
) -> None:
    client = logged_in(smtp_server, account)
    client.mail("shop@example.test")
    client.rcpt("alice@dest.test")
    code, reply = client.data(content)
    assert code == 550 and reply.startswith(b"5.6.0") and needle in reply
    client.quit()
    assert stored(session, account.id) == (0, 0, 100)


def test_sender_domain_must_be_associated_and_verified(
    smtp_server: SubmissionServer, account: DeliveryAccount, db: Database, session: Session
) -> None:
    client = logged_in(smtp_server, account)
    client.mail("x@unknown.test")
    client.rcpt("alice@dest.test")
    code, reply = client.data(mail(sender="x@unknown.test"))
    assert code == 550 and b"not associated" in reply
    with db.session() as s:
        s.scalars(
            select(Domain).where(Domain.name == "example.test")
        ).one().status = DomainStatus.pending
    client.mail("shop@example.test")
    client.rcpt("alice@dest.test")
    code, reply = client.data(mail())
    assert code == 550 and b"not verified" in reply
    client.quit()
    assert stored(session, account.id) == (0, 0, 100)


# A change that stops an account from sending, and what the refusal says.
STOPS = [
    ({"status": AccountStatus.disabled}, b"disabled"),
    ({"status": AccountStatus.blocked}, b"blocked"),
    ({"ip_allowlist": ["192.0.2.0/24"]}, b"not allowed"),
]


def change_account(db: Database, account: DeliveryAccount, change: dict[str, object]) -> None:
    with db.session() as s:
        row = s.get_one(DeliveryAccount, account.id)
        for name, value in change.items():
            setattr(row, name, value)


@pytest.mark.parametrize(("change", "needle"), STOPS)
def test_account_that_may_not_send_is_refused_at_mail(
    smtp_server: SubmissionServer,
    account: DeliveryAccount,
    db: Database,
    change: dict[str, object],
    needle: bytes,
) -> None:
    client = logged_in(smtp_server, account)
    change_account(db, account, change)
    code, reply = client.mail("shop@example.test")
    assert code == 550 and reply.startswith(b"5.7.1") and needle in reply
    client.quit()


@pytest.mark.parametrize(("change", "needle"), STOPS)
def test_an_account_stopped_after_mail_was_answered_is_refused_at_rcpt(
    smtp_server: SubmissionServer,
    account: DeliveryAccount,
    db: Database,
    change: dict[str, object],
    needle: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(handler, "STATE_REUSE_SECONDS", 3600.0)
    client = logged_in(smtp_server, account)
    assert client.mail("shop@example.test")[0] == 250  # reads the account's state
    change_account(db, account, change)
    client.rset()
    assert client.mail("shop@example.test")[0] == 250  # may answer from that read
    code, reply = client.rcpt("alice@dest.test")  # reads afresh
    assert code == 550 and reply.startswith(b"5.7.1") and needle in reply
    client.quit()


def test_pipelined_transaction(
    smtp_server: SubmissionServer, account: DeliveryAccount, session: Session
) -> None:
    client = logged_in(smtp_server, account)
    client.send(
        b"MAIL FROM:<shop@example.test>\r\n"
        b"RCPT TO:<a@dest.test>\r\nRCPT TO:<b@dest.test>\r\nDATA\r\n"
    )
    assert [client.getreply()[0] for _ in range(4)] == [250, 250, 250, 354]
    client.send(mail("a@dest.test, b@dest.test") + b".\r\n")
    assert client.getreply()[0] == 250
    client.quit()
    assert stored(session, account.id) == (1, 2, 98)


def test_a_password_reset_takes_effect_at_once(
    smtp_server: SubmissionServer, account: DeliveryAccount, db: Database
) -> None:
    logged_in(smtp_server, account).quit()  # the old password is now remembered as verified
    with db.session() as s:
        s.get_one(DeliveryAccount, account.id).smtp_password_hash = hash_password("new-password-1")
    client = connect(smtp_server)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        client.login(account.username, PASSWORD)
    client.login(account.username, "new-password-1")
    client.quit()


def test_unknown_username_is_refused(smtp_server: SubmissionServer) -> None:
    client = connect(smtp_server)
    with pytest.raises(smtplib.SMTPAuthenticationError) as failure:
        client.login("nobody", PASSWORD)
    assert failure.value.smtp_code == 535
    client.quit()
