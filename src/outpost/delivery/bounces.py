"""The inbound bounce server: the MX of every return-path host.

Bounces arrive at the VERP envelope sender the worker used, so the address itself names
the recipient (and its HMAC tag proves Outpost made it). The report is read as an RFC 3464
DSN when it is one, else by ``flufl.bounce``'s detectors for the many other formats;
mail that is no bounce at all (auto-replies, ...) is accepted and dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message as EmailMessage
from typing import Any

import flufl.bounce
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from outpost.accounts.models import DeliveryAccount
from outpost.addresses import domain_of
from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.delivery.outcome import (
    BounceKind,
    DeliveryOutcome,
    OutcomeKind,
    bounce_kind_for,
    enhanced_code_of,
)
from outpost.delivery.queue import ClaimedRecipient
from outpost.delivery.recording import MessageContext, handle_hard_bounces
from outpost.delivery.verp import recipient_of
from outpost.domains.models import Domain
from outpost.events.models import EventType
from outpost.events.recording import add_events, count_daily
from outpost.runtime import Service
from outpost.sending.models import Message, MessageSource, Recipient, RecipientStatus

log = logging.getLogger(__name__)

MAX_BOUNCE_SIZE = 10 * 1024 * 1024
REPLY_UNKNOWN_HOST = "550 5.7.1 Relaying denied: not a return-path host"
REPLY_UNKNOWN_USER = "550 5.1.1 No such bounce address"
REPLY_TRY_LATER = "451 4.3.0 Cannot record the bounce now, try again later"


@dataclass(frozen=True)
class BounceReport:
    """What a bounce says about one recipient."""

    permanent: bool
    status: str | None  # RFC 3463 code, e.g. 5.1.1
    diagnostic: str
    remote_mta: str | None


def parse_bounce(content: bytes) -> BounceReport | None:
    """The failure a bounce message reports, or None when it reports none."""
    message = message_from_bytes(content)
    report = _from_dsn(message)
    if report is not None:
        return report
    temporary, permanent = flufl.bounce.all_failures(message)
    if not temporary and not permanent:
        return None
    text = _first_text(message)
    status = _status_in(text)
    return BounceReport(
        permanent=bool(permanent), status=status, diagnostic=text[:500], remote_mta=None
    )


def _from_dsn(message: EmailMessage) -> BounceReport | None:
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:  # the first block describes the message, the rest recipients
            if not isinstance(block, EmailMessage):
                continue
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip() or None
            if action != "failed" and action != "delayed":
                continue
            diagnostic = str(block.get("Diagnostic-Code", "")).partition(";")[2].strip()
            remote = str(block.get("Remote-MTA", "")).partition(";")[2].strip() or None
            return BounceReport(
                permanent=action == "failed",
                status=status,
                diagnostic=" ".join(diagnostic.split()) or f"{status} ({action})",
                remote_mta=remote,
            )
    return None


def _first_text(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return " ".join(payload.decode("utf-8", "replace").split())
    return ""


def _status_in(text: str) -> str | None:
    for word in text.replace("(", " ").replace(")", " ").replace("#", " ").split():
        code = enhanced_code_of(word)
        if code is not None:
            return code
    return None


def _reply_code(report: BounceReport) -> int:
    words = report.diagnostic.split()
    if words and words[0].isdigit() and len(words[0]) == 3:
        return int(words[0])
    return 550 if report.permanent else 450


def record_bounce(
    *, session: DbSession, settings: Settings, recipient_id: int, report: BounceReport
) -> bool:
    """Mark the recipient bounced (event, counter, suppression when hard); False if unknown."""
    if not report.permanent:
        return False  # a delay notice changes nothing: the recipient is still on its way
    row = session.get(Recipient, recipient_id)
    message = session.get(Message, row.message_id) if row is not None else None
    if row is None or message is None:
        return False
    code = _reply_code(report)
    kind = bounce_kind_for(code if code >= 500 else 550, report.status)
    reply = report.diagnostic or f"{code} {report.status or ''}".strip()
    now = utcnow()
    row.status = RecipientStatus.bounced
    row.smtp_code, row.enhanced_code, row.reply = code, report.status, reply[:4000]
    row.bounce_kind, row.finished_at = kind.value, now
    row.remote_host = report.remote_mta or row.remote_host
    details: dict[str, Any] = {
        "source": "dsn",
        "reply": reply,
        "code": code,
        "enhanced_code": report.status,
        "remote_host": report.remote_mta,
        "bounce_kind": kind.value,
        "message_id": message.message_id,
    }
    add_events(
        session,
        [
            {
                "account_id": row.account_id,
                "message_id": row.message_id,
                "recipient_id": row.id,
                "type": EventType.bounced,
                "address": row.address,
                "details": details,
                "created_at": now,
            }
        ],
    )
    if message.source is MessageSource.system:
        return True
    count_daily(session, {(row.account_id, now.date()): Counter(bounced=1)})
    if kind is BounceKind.hard:
        account = session.get(DeliveryAccount, row.account_id)
        claimed = ClaimedRecipient(
            row.id,
            row.message_id,
            row.account_id,
            row.address,
            row.domain,
            row.attempts,
            row.created_at,
        )
        outcome = DeliveryOutcome(
            OutcomeKind.bounced, reply, code, report.status, report.remote_mta, kind
        )
        context = MessageContext(
            message.id,
            message.source,
            message.message_id,
            account.bounce_alert_email if account else None,
        )
        handle_hard_bounces(
            session=session, settings=settings, bounces=[(claimed, outcome, context)]
        )
    return True


class BounceHandler:
    """The aiosmtpd handler: refuse what is not ours, record what is."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.secret = settings.installation_secret()
        self._hosts: frozenset[str] = frozenset()
        self._hosts_at = 0.0

    def _return_path_hosts(self) -> frozenset[str]:
        if time.monotonic() - self._hosts_at > 60:
            with self.database.session() as session:
                self._hosts = frozenset(
                    h.lower() for h in session.scalars(select(Domain.return_path_host))
                )
            self._hosts_at = time.monotonic()
        return self._hosts

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        """Take only VERP addresses (and postmaster) at return-path hosts."""
        hosts = await asyncio.to_thread(self._return_path_hosts)
        if domain_of(address) not in hosts:
            return REPLY_UNKNOWN_HOST
        local = address.rpartition("@")[0].lower()
        if local != "postmaster" and recipient_of(secret=self.secret, address=address) is None:
            return REPLY_UNKNOWN_USER
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Record the bounce for each VERP recipient; answer only once it is stored."""
        content = envelope.original_content or b""
        try:
            await asyncio.to_thread(self._record, content, list(envelope.rcpt_tos))
        except Exception:
            log.exception("cannot record a bounce")
            return REPLY_TRY_LATER
        return "250 2.0.0 OK"

    def _record(self, content: bytes, rcpt_tos: list[str]) -> None:
        ids = list(_verp_ids(self.secret, rcpt_tos))
        if not ids:
            return
        report = parse_bounce(content)
        if report is None:
            log.info("mail to %s is not a bounce; dropped", rcpt_tos)
            return
        with self.database.session() as session:
            for recipient_id in ids:
                record_bounce(
                    session=session,
                    settings=self.settings,
                    recipient_id=recipient_id,
                    report=report,
                )


def _verp_ids(secret: str, addresses: list[str]) -> Iterator[int]:
    for address in addresses:
        recipient_id = recipient_of(secret=secret, address=address)
        if recipient_id is not None:
            yield recipient_id


def bounce_service(database: Database, settings: Settings) -> Service:
    """The bounce server as a runtime service, on ``bounce_host:bounce_port``."""

    async def run(stop: asyncio.Event) -> None:
        handler = BounceHandler(database, settings)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(
                handler,
                hostname=settings.hostname,
                data_size_limit=MAX_BOUNCE_SIZE,
                enable_SMTPUTF8=True,
            ),
            host=settings.bounce_host or settings.smtp_host,
            port=settings.bounce_port,
        )
        log.info("bounce server listening on port %s", settings.bounce_port)
        try:
            await stop.wait()
        finally:
            server.close()
            await server.wait_closed()

    return run
