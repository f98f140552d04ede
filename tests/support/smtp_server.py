"""Real SMTP servers on loopback playing remote mail exchangers (aiosmtpd, with STARTTLS).

A :class:`RemoteMX` records what it received and answers according to a script, so a test
can play a server that accepts, defers, refuses, or drops the connection mid-transaction.
"""

from __future__ import annotations

import datetime
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.dns_server import free_port

DROP = "drop"  # a reply that closes the connection instead of answering


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    tls: bool
    mail_options: tuple[str, ...] = ()
    peer: Any = None  # the client's (address, port): one per connection


@lru_cache(maxsize=1)
def self_signed_cert() -> tuple[str, str]:
    """Paths of a self-signed certificate and key for ``localhost``/``127.0.0.1``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="outpost-tls-"))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def server_tls_context() -> ssl.SSLContext:
    """A server context with the self-signed certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*self_signed_cert())
    return context


# Decides the reply to RCPT or DATA: None means the normal 250.
Script = Callable[["RemoteMX", str, Envelope | None], str | None]


def accept_all(_mx: RemoteMX, _stage: str, _envelope: Envelope | None) -> str | None:
    """Every recipient and message is accepted."""
    return None


class _Handler:
    def __init__(self, mx: RemoteMX) -> None:
        self.mx = mx

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if self.mx.pipelining:
            return [responses[0], "250-PIPELINING", *responses[1:]]
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        reply = self.mx.decide(f"rcpt:{address}", envelope)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self.mx.decide("data", envelope)
        if reply == DROP:
            assert server.transport is not None
            server.transport.abort()
            return "421 closing"
        if reply is not None:
            return reply
        content = envelope.original_content or b""
        self.mx.record(
            Received(
                envelope.mail_from or "",
                tuple(envelope.rcpt_tos),
                content,
                session.ssl is not None,
                tuple(envelope.mail_options),
                session.peer,
            )
        )
        return "250 2.0.0 OK queued"


class RemoteMX:
    """An aiosmtpd server on 127.0.0.1 (or another loopback address) with STARTTLS."""

    def __init__(
        self,
        script: Script = accept_all,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        tls: bool = True,
        auth: tuple[str, str] | None = None,
        pipelining: bool = True,
        smtputf8: bool = False,
    ) -> None:
        self.script = script
        self.pipelining = pipelining
        self.received: list[Received] = []
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()
        self.port = port or free_port()
        kwargs: dict[str, Any] = {}
        if tls:
            kwargs["tls_context"] = server_tls_context()
        if auth is not None:
            kwargs["authenticator"] = _authenticator(*auth)
            kwargs["auth_require_tls"] = True
            kwargs["auth_required"] = True
        self.controller = Controller(
            _Handler(self),
            hostname=host,
            port=self.port,
            server_hostname="mx.test",
            enable_SMTPUTF8=smtputf8,
            **kwargs,
        )

    def decide(self, stage: str, envelope: Envelope | None) -> str | None:
        """The scripted reply for this stage (counting how often each stage was reached)."""
        with self.lock:
            self.calls[stage] = self.calls.get(stage, 0) + 1
        return self.script(self, stage, envelope)

    def count(self, stage: str) -> int:
        """How often a stage (``data``, ``rcpt:<address>``) was reached."""
        with self.lock:
            return self.calls.get(stage, 0)

    def record(self, message: Received) -> None:
        """Keep an accepted message."""
        with self.lock:
            self.received.append(message)

    def messages_for(self, address: str) -> list[Received]:
        """Accepted messages addressed to ``address``."""
        with self.lock:
            return [m for m in self.received if address in m.rcpt_tos]

    def start(self) -> RemoteMX:
        """Start listening."""
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop and free the port."""
        self.controller.stop()


def _authenticator(username: str, password: str) -> Callable[..., AuthResult]:
    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == username
            and data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return check
