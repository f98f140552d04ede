"""A small SMTP client for delivery, with PIPELINING (RFC 2920).

aiosmtplib waits for each reply before sending the next command and cannot pipeline, so a
message cost four round trips and four socket writes; on loopback each write carries the
receiving side's TCP work too, and the writes were a quarter of a worker's CPU. Here, when
the server offers PIPELINING, each message takes one write and one round trip.
"""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

_DOT_AT_LINE_START = re.compile(rb"^\.", re.MULTILINE)
MAX_REPLY_LINES = 100

Transaction = tuple[str, str, bytes]  # envelope sender, recipient, message content


def _commands(item: Transaction) -> bytes:
    return f"MAIL FROM:<{item[0]}>\r\nRCPT TO:<{item[1]}>\r\nDATA\r\n".encode("ascii")


def _content(data: bytes) -> bytes:
    """The message, dot-stuffed, ending with CRLF and the lone dot."""
    content = _DOT_AT_LINE_START.sub(b"..", data)
    if not content.endswith(b"\r\n"):
        content += b"\r\n"
    return content + b".\r\n"


@dataclass(frozen=True, slots=True)
class Reply:
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


@dataclass
class Wire:
    """An open SMTP connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    timeout: float
    extensions: dict[str, str] = field(default_factory=dict)

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
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                host, port, ssl=tls, server_hostname=server_hostname if tls else None
            ),
            timeout,
        )
        wire = cls(reader, writer, timeout)
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
        lines: list[str] = []
        for _ in range(MAX_REPLY_LINES):
            try:
                raw = await asyncio.wait_for(self.reader.readuntil(b"\n"), self.timeout)
            except asyncio.IncompleteReadError as exc:
                raise SmtpError("the server closed the connection") from exc
            except asyncio.LimitOverrunError as exc:
                raise SmtpError("reply line too long") from exc
            line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            if len(line) < 3 or not line[:3].isdigit():
                raise SmtpError(f"malformed reply line: {line[:80]!r}")
            lines.append(line[4:])
            if line[3:4] != "-":
                return Reply(int(line[:3]), "\n".join(lines))
        raise SmtpError("reply has too many lines")

    def send(self, data: bytes) -> None:
        """Queue bytes for the server (flushed by the next read)."""
        if self.writer.is_closing():
            raise SmtpError("the connection is closed")
        self.writer.write(data)

    async def command(self, line: str) -> Reply:
        """Send one command line and read its reply."""
        self.send(line.encode("ascii") + b"\r\n")
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
        await asyncio.wait_for(
            self.writer.start_tls(context, server_hostname=server_hostname), self.timeout
        )
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
        for index, (_sender, _recipient, data) in enumerate(items):
            following = _commands(items[index + 1]) if index + 1 < len(items) else b""
            mail, rcpt, start = [await self.read_reply() for _ in range(3)]
            refused = mail if not mail.ok else rcpt if not rcpt.ok else None
            if start.code == 354 and refused is None:
                self.send(_content(data) + following)
                yield await self.read_reply()
                continue
            if start.code == 354:
                # The server took DATA although a step failed: end it with no content.
                self.send(b".\r\n")
                await self.read_reply()
            self.send(b"RSET\r\n" + following)
            if not (await self.read_reply()).ok:
                raise SmtpError("RSET refused")
            yield refused or start

    async def _one_by_one(self, mail_from: str, rcpt_to: str, data: bytes) -> Reply:
        for line in (f"MAIL FROM:<{mail_from}>", f"RCPT TO:<{rcpt_to}>", "DATA"):
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
        self.writer.close()

    @property
    def is_open(self) -> bool:
        """Whether another transaction may go over this connection."""
        return not self.writer.is_closing() and not self.reader.at_eof()
