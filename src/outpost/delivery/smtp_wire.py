"""A small SMTP client for delivery, with PIPELINING (RFC 2920).

aiosmtplib waits for each reply before sending the next command and cannot pipeline, so a
message cost four round trips and four socket writes; on loopback each write carries the
receiving side's TCP work too, and the writes were a quarter of a worker's CPU. Here, when
the server offers PIPELINING, each message takes one write and one round trip.

A transaction with a non-ASCII address goes out as UTF-8 with the SMTPUTF8 parameter
(RFC 6531); the caller sends one only to a server that offers SMTPUTF8.
"""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import NamedTuple, cast

_DOT_AT_LINE_START = re.compile(rb"^\.", re.MULTILINE)
MAX_REPLY_LINES = 100
MAX_LINE = 64 * 1024  # asyncio's stream limit, which the reader had before

Transaction = tuple[str, str, bytes]  # envelope sender, recipient, message content


def needs_smtputf8(mail_from: str, rcpt_to: str) -> bool:
    """Whether an envelope has a non-ASCII address, which only SMTPUTF8 can carry."""
    return not (mail_from.isascii() and rcpt_to.isascii())


def _mail_command(mail_from: str, rcpt_to: str) -> str:
    if needs_smtputf8(mail_from, rcpt_to):
        return f"MAIL FROM:<{mail_from}> SMTPUTF8"
    return f"MAIL FROM:<{mail_from}>"


def _commands(item: Transaction) -> bytes:
    # UTF-8 leaves ASCII as it is: an ASCII envelope goes out byte for byte as before.
    return f"{_mail_command(item[0], item[1])}\r\nRCPT TO:<{item[1]}>\r\nDATA\r\n".encode()


def _content(data: bytes) -> bytes:
    """The message, dot-stuffed, ending with CRLF and the lone dot."""
    # Most messages have no line starting with a dot: two C searches instead of a regex pass.
    needs_stuffing = data.startswith(b".") or b"\n." in data
    content = _DOT_AT_LINE_START.sub(b"..", data) if needs_stuffing else data
    if not content.endswith(b"\r\n"):
        content += b"\r\n"
    return content + b".\r\n"


class Reply(NamedTuple):
    """One SMTP reply: its code and its text (lines joined by newlines)."""

    code: int
    text: str

    @property
    def ok(self) -> bool:
        """Whether the reply is a positive completion (2xx)."""
        return 200 <= self.code < 300


class SmtpError(Exception):
    """The session cannot go on: the server misbehaved or the connection broke."""


class ReplyError(SmtpError):
    """A command was refused during the session's set-up (greeting, EHLO, TLS, AUTH)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(f"{reply.code} {reply.text}")
        self.reply = reply


class _ReplyProtocol(asyncio.Protocol):
    """Collects the server's replies as they arrive; no task or stream per reply.

    asyncio's streams cost a task per ``wait_for`` and a wake-up per line; with four
    replies per pipelined message that was most of the client's CPU. Here a reply is parsed
    in ``data_received`` and a waiter is woken only once the replies it waits for are in.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.replies: deque[Reply] = deque()
        self.ended: SmtpError | None = None
        self._buffer = b""
        self._lines: list[str] = []
        self._waiter: asyncio.Future[None] | None = None
        self._wanted = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, so no isinstance check.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        start = 0
        while (end := buffer.find(b"\n", start)) >= 0:
            self._line(buffer[start:end].rstrip(b"\r"))
            start = end + 1
        self._buffer = buffer[start:]
        if len(self._buffer) > MAX_LINE and self.ended is None:
            self._end(SmtpError("reply line too long"))
        self._wake()

    def _line(self, raw: bytes) -> None:
        if self.ended is not None:
            return
        line = raw.decode("utf-8", "replace")
        if len(line) < 3 or not line[:3].isdigit():
            self._end(SmtpError(f"malformed reply line: {line[:80]!r}"))
            return
        self._lines.append(line[4:])
        if line[3:4] == "-":
            if len(self._lines) >= MAX_REPLY_LINES:
                self._end(SmtpError("reply has too many lines"))
            return
        self.replies.append(Reply(int(line[:3]), "\n".join(self._lines)))
        self._lines = []

    def _end(self, error: SmtpError) -> None:
        self.ended = error
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.ended is None:
            self.ended = SmtpError("the server closed the connection")
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and (len(self.replies) >= self._wanted or self.ended):
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, count: int, timeout: float) -> None:
        """Until ``count`` replies are in or the connection ended; TimeoutError after
        ``timeout`` seconds without them."""
        if len(self.replies) >= count or self.ended is not None:
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        self._wanted = count
        timer = loop.call_later(timeout, _time_out, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            if self._waiter is waiter:
                self._waiter = None


def _time_out(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Wire:
    """An open SMTP connection."""

    def __init__(self, protocol: _ReplyProtocol, transport: asyncio.Transport, timeout: float):
        self.protocol = protocol
        self.transport = transport
        self.timeout = timeout
        self.extensions: dict[str, str] = {}
        # Set when a wait for several replies timed out after some came: the next read
        # that finds none fails at once instead of waiting a second time.
        self._timed_out = False

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        timeout: float,
        tls: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> Wire:
        """Connect (TLS from the first byte when ``tls`` is given) and read the greeting."""
        loop = asyncio.get_running_loop()
        transport, protocol = await asyncio.wait_for(
            loop.create_connection(
                _ReplyProtocol,
                host,
                port,
                ssl=tls,
                server_hostname=server_hostname if tls else None,
            ),
            timeout,
        )
        wire = cls(protocol, transport, timeout)
        try:
            greeting = await wire.read_reply()
            if greeting.code != 220:
                raise ReplyError(greeting)
        except BaseException:
            wire.close()
            raise
        return wire

    async def read_reply(self) -> Reply:
        """The next reply; a multi-line reply is joined."""
        protocol = self.protocol
        if not protocol.replies and not self._timed_out:
            await protocol.wait(1, self.timeout)
        if protocol.replies:
            return protocol.replies.popleft()
        if protocol.ended is not None:
            raise protocol.ended
        raise TimeoutError()

    async def _expect(self, count: int) -> None:
        """Wait until ``count`` replies are in, to read them without a wake-up each."""
        try:
            await self.protocol.wait(count, self.timeout)
        except TimeoutError:
            if not self.protocol.replies:
                raise
            self._timed_out = True  # read those that came; the next missing one fails

    def send(self, data: bytes) -> None:
        """Queue bytes for the server."""
        if self.transport.is_closing():
            raise SmtpError("the connection is closed")
        self.transport.write(data)

    async def command(self, line: str) -> Reply:
        """Send one command line (UTF-8, for SMTPUTF8 addresses) and read its reply."""
        self.send(line.encode() + b"\r\n")
        return await self.read_reply()

    async def ehlo(self, name: str) -> None:
        """Say EHLO (HELO when EHLO is refused) and learn the server's extensions."""
        reply = await self.command(f"EHLO {name}")
        if not reply.ok:
            reply = await self.command(f"HELO {name}")
            if not reply.ok:
                raise ReplyError(reply)
            self.extensions = {}
            return
        extensions = {}
        for line in reply.text.split("\n")[1:]:
            keyword, _, value = line.strip().partition(" ")
            extensions[keyword.upper()] = value
        self.extensions = extensions

    def offers(self, extension: str) -> bool:
        """Whether the server offered ``extension`` in its EHLO reply."""
        return extension.upper() in self.extensions

    async def starttls(self, context: ssl.SSLContext, server_hostname: str, name: str) -> None:
        """Upgrade to TLS and say EHLO again."""
        reply = await self.command("STARTTLS")
        if reply.code != 220:
            raise ReplyError(reply)
        loop = asyncio.get_running_loop()
        transport = await asyncio.wait_for(
            loop.start_tls(self.transport, self.protocol, context, server_hostname=server_hostname),
            self.timeout,
        )
        if transport is None:
            raise SmtpError("TLS could not be started")
        self.transport = transport
        self.protocol.transport = transport
        await self.ehlo(name)

    async def login(self, username: str, password: str) -> None:
        """AUTH PLAIN (or LOGIN when that is all the server offers)."""
        mechanisms = self.extensions.get("AUTH", "").upper().split()
        if "PLAIN" in mechanisms or "LOGIN" not in mechanisms:
            blob = base64.b64encode(f"\0{username}\0{password}".encode()).decode()
            reply = await self.command(f"AUTH PLAIN {blob}")
        else:
            reply = await self.command("AUTH LOGIN")
            if reply.code == 334:
                reply = await self.command(base64.b64encode(username.encode()).decode())
            if reply.code == 334:
                reply = await self.command(base64.b64encode(password.encode()).decode())
        if reply.code != 235:
            raise ReplyError(reply)

    async def transactions(self, items: Sequence[Transaction]) -> AsyncIterator[Reply]:
        """Send each (sender, recipient, content); yield the reply that decided each one.

        A transaction with a non-ASCII address carries SMTPUTF8: send one only when
        ``offers("SMTPUTF8")``.

        That is the first refused step's reply when one is refused (the transaction is then
        reset), else the reply to the content. With PIPELINING, a message's content goes out
        in the same write as the next message's MAIL, RCPT and DATA (RFC 2920 allows it):
        one write and one round trip per message.
        """
        if not items:
            return
        if not self.offers("PIPELINING"):
            for item in items:
                yield await self._one_by_one(*item)
            return
        self.send(_commands(items[0]))
        await self._expect(3)
        for index, (_sender, _recipient, data) in enumerate(items):
            following = _commands(items[index + 1]) if index + 1 < len(items) else b""
            mail, rcpt, start = [await self.read_reply() for _ in range(3)]
            refused = mail if not mail.ok else rcpt if not rcpt.ok else None
            if start.code == 354 and refused is None:
                self.send(_content(data) + following)
                # The content's reply and the next message's three: one wake-up for four.
                await self._expect(4 if following else 1)
                yield await self.read_reply()
                continue
            if start.code == 354:
                # The server took DATA although a step failed: end it with no content.
                self.send(b".\r\n")
                await self.read_reply()
            self.send(b"RSET\r\n" + following)
            await self._expect(4 if following else 1)
            if not (await self.read_reply()).ok:
                raise SmtpError("RSET refused")
            yield refused or start

    async def _one_by_one(self, mail_from: str, rcpt_to: str, data: bytes) -> Reply:
        for line in (_mail_command(mail_from, rcpt_to), f"RCPT TO:<{rcpt_to}>", "DATA"):
            reply = await self.command(line)
            if reply.code == 354:
                self.send(_content(data))
                return await self.read_reply()
            if not reply.ok:
                await self.reset()
                return reply
        raise SmtpError("DATA was accepted without a 354 reply")

    async def reset(self) -> None:
        """RSET: forget the current transaction."""
        reply = await self.command("RSET")
        if not reply.ok:
            raise SmtpError(f"RSET refused: {reply.code} {reply.text}")

    async def quit(self) -> None:
        """QUIT, then close."""
        try:
            await self.command("QUIT")
        finally:
            self.close()

    def close(self) -> None:
        """Drop the connection."""
        self.transport.close()

    @property
    def is_open(self) -> bool:
        """Whether another transaction may go over this connection."""
        return not self.transport.is_closing() and self.protocol.ended is None
