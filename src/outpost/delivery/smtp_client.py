"""Talking to remote mail servers: one reused connection per batch and destination.

STARTTLS whenever the server offers it (certificate checks configurable: opportunistic TLS
on port 25 is the norm), AUTH and TLS for the relay host, SMTPUTF8 (RFC 6531) for
non-ASCII addresses, and every reply turned into a typed :class:`DeliveryOutcome`.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from outpost.config import Settings
from outpost.delivery.mx import MailHost, Route
from outpost.delivery.outcome import (
    REPLY_NO_CONNECTION,
    DeliveryOutcome,
    from_reply,
    temporary,
)
from outpost.delivery.smtp_wire import ReplyError, SmtpError, Wire, needs_smtputf8

log = logging.getLogger(__name__)

REPLY_NO_SMTPUTF8 = "5.6.7 Non-ASCII address, and {host} does not offer SMTPUTF8"

# How many times one batch may reconnect after a server drops it before deferring the rest.
MAX_RECONNECTS = 3


def tls_context(*, verify: bool) -> ssl.SSLContext:
    """A client TLS context; without ``verify`` any certificate is accepted."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@dataclass(frozen=True)
class Envelope:
    """One SMTP transaction: the envelope sender, one recipient, the signed message."""

    mail_from: str
    rcpt_to: str
    data: bytes


class ConnectFailed(Exception):
    """No host of a route took the connection; ``outcome`` is what each recipient gets."""

    def __init__(self, outcome: DeliveryOutcome) -> None:
        super().__init__(outcome.reply)
        self.outcome = outcome


class SmtpConnection:
    """One open, greeted (and when possible encrypted) SMTP session."""

    def __init__(self, wire: Wire, host: MailHost) -> None:
        self.wire = wire
        self.host = host

    @property
    def is_open(self) -> bool:
        """Whether the connection can take another transaction."""
        return self.wire.is_open

    async def send(self, envelopes: Sequence[Envelope]) -> list[DeliveryOutcome]:
        """Run the transactions (pipelined when offered) and say how each ended.

        An envelope with a non-ASCII address fails permanently, unsent, when the server does
        not offer SMTPUTF8. Stops early when the connection breaks: the envelope in flight
        gets a temporary failure and the ones after it are left for another connection.
        """
        outcomes: list[DeliveryOutcome | None] = [None] * len(envelopes)
        if not self.wire.offers("SMTPUTF8"):
            for index, envelope in enumerate(envelopes):
                if needs_smtputf8(envelope.mail_from, envelope.rcpt_to):
                    outcomes[index] = self._no_smtputf8()
        todo = [index for index, outcome in enumerate(outcomes) if outcome is None]
        items = [(envelopes[i].mail_from, envelopes[i].rcpt_to, envelopes[i].data) for i in todo]
        host = self.host.name
        sent = 0
        try:
            async for reply in self.wire.transactions(items):
                outcomes[todo[sent]] = from_reply(reply.code, reply.text, remote_host=host)
                sent += 1
        except (SmtpError, OSError, TimeoutError) as exc:
            self.wire.close()
            if sent < len(todo):
                outcomes[todo[sent]] = temporary(
                    f"connection to {host} failed: {exc}", remote_host=host
                )
        decided = []
        for outcome in outcomes:
            if outcome is None:
                break  # the connection broke before this one
            decided.append(outcome)
        return decided

    def _no_smtputf8(self) -> DeliveryOutcome:
        reply = REPLY_NO_SMTPUTF8.format(host=self.host.name)
        return from_reply(553, reply, remote_host=self.host.name)

    async def close(self) -> None:
        """QUIT politely, or just drop the connection."""
        if not self.wire.is_open:
            self.wire.close()
            return
        try:
            await self.wire.quit()
        except (SmtpError, OSError, TimeoutError):
            self.wire.close()


class SmtpClient:
    """Opens connections along a route with the installation's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._mx_tls = tls_context(verify=settings.delivery_tls_verify)
        self._relay_tls = tls_context(verify=settings.relay_tls_verify)

    async def connect(self, route: Route) -> SmtpConnection:
        """A connection to the first host of ``route`` that answers; raises ConnectFailed."""
        last: DeliveryOutcome | None = None
        for host in route.hosts:
            for address in host.addresses:
                try:
                    return await self._open(host, address, relay=route.relay)
                except ReplyError as exc:
                    last = from_reply(exc.reply.code, exc.reply.text, remote_host=host.name)
                    if last.is_final and route.relay:
                        break  # the relay refused us (e.g. AUTH): no other host to try
                except (SmtpError, OSError, TimeoutError) as exc:
                    log.info("cannot connect to %s [%s]: %s", host.name, address, exc)
                    last = temporary(f"{host.name} [{address}]: {exc}", remote_host=host.name)
        # A greeting or EHLO refusal is about the server, not the recipient: try later.
        if last is None or last.is_final:
            last = temporary(REPLY_NO_CONNECTION, remote_host=last.remote_host if last else None)
        raise ConnectFailed(last)

    async def _open(self, host: MailHost, address: str, *, relay: bool) -> SmtpConnection:
        implicit_tls = relay and self.settings.relay_tls == "tls"
        context = self._relay_tls if relay else self._mx_tls
        wire = await Wire.open(
            address,
            host.port,
            timeout=self.settings.delivery_timeout_seconds,
            tls=context if implicit_tls else None,
            server_hostname=host.name,
        )
        try:
            name = self.settings.hostname
            await wire.ehlo(name)
            wants_tls = not relay or self.settings.relay_tls == "starttls"
            if not implicit_tls and wants_tls and wire.offers("STARTTLS"):
                await wire.starttls(context, host.name, name)
            elif relay and self.settings.relay_tls == "starttls":
                raise SmtpError("relay host does not offer STARTTLS")
            if relay and self.settings.relay_username:
                await wire.login(self.settings.relay_username, self.settings.relay_password)
        except BaseException:
            wire.close()
            raise
        return SmtpConnection(wire, host)

    @asynccontextmanager
    async def session(self, route: Route) -> AsyncIterator[SmtpSession]:
        """A reconnecting sender along ``route``, closed at the end."""
        session = SmtpSession(self, route)
        try:
            yield session
        finally:
            await session.close()


class SmtpSession:
    """Sends many envelopes along one route over one connection, reconnecting if dropped."""

    def __init__(self, client: SmtpClient, route: Route) -> None:
        self.client = client
        self.route = route
        self.connection: SmtpConnection | None = None
        self.reconnects = 0
        self.failure: DeliveryOutcome | None = None

    async def send_all(self, envelopes: Sequence[Envelope]) -> list[DeliveryOutcome]:
        """The outcome of each envelope, in order, reconnecting when a connection drops."""
        outcomes: list[DeliveryOutcome | None] = [None] * len(envelopes)
        todo = list(range(len(envelopes)))
        while todo:
            connection = await self._connection()
            if connection is None:
                assert self.failure is not None  # noqa: S101 - set by _connection
                for index in todo:
                    outcomes[index] = self.failure
                break
            done = await connection.send([envelopes[i] for i in todo])
            for index, outcome in zip(todo, done, strict=False):
                outcomes[index] = outcome
            todo = todo[len(done) :]
        return [o for o in outcomes if o is not None]

    async def send(self, envelope: Envelope) -> DeliveryOutcome:
        """Send one envelope, opening (or reopening) the connection when needed."""
        [outcome] = await self.send_all([envelope])
        return outcome

    async def _connection(self) -> SmtpConnection | None:
        if self.failure is not None:
            return None
        if self.connection is None or not self.connection.is_open:
            if self.connection is not None:
                self.reconnects += 1
                if self.reconnects > MAX_RECONNECTS:
                    self.failure = temporary(REPLY_NO_CONNECTION)
                    return None
            try:
                self.connection = await self.client.connect(self.route)
            except ConnectFailed as exc:
                self.failure = exc.outcome
                return None
        return self.connection

    async def close(self) -> None:
        """Close the connection if one is open."""
        if self.connection is not None:
            await self.connection.close()
