"""Run SMTP submission: STARTTLS on the submission port, TLS from the first byte on the other."""

from __future__ import annotations

import asyncio
import logging
import warnings
import weakref

from aiosmtpd.smtp import SMTP

from outpost.config import Settings
from outpost.db import Database
from outpost.runtime import Service
from outpost.sending.service import Sending
from outpost.sending.smtp.auth import Authenticator
from outpost.sending.smtp.handler import SubmissionHandler
from outpost.sending.smtp.protocol import SubmissionSMTP
from outpost.sending.smtp.tls import server_context
from outpost.throttle import FailedLogins

log = logging.getLogger(__name__)


def submission_handler(
    settings: Settings, database: Database, sending: Sending
) -> SubmissionHandler:
    """The handler both ports share (one login throttle, one credential cache)."""
    failures = FailedLogins(settings.smtp_login_max_failures, settings.smtp_login_failure_window)
    return SubmissionHandler(
        settings=settings,
        database=database,
        sending=sending,
        authenticator=Authenticator(database, failures),
    )


class Listening:
    """The listening servers and their open sessions, so stopping closes every connection."""

    def __init__(self) -> None:
        self.servers: list[asyncio.Server] = []
        self.sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def track(self, protocol: SMTP) -> SMTP:
        """Remember a new session's protocol."""
        self.sessions.add(protocol)
        return protocol

    async def close(self) -> None:
        """Stop listening and end every open session."""
        for server in self.servers:
            server.close()
        tasks = []
        for protocol in list(self.sessions):
            if protocol.transport is not None:
                protocol.transport.close()
            task = getattr(protocol, "_handler_coroutine", None)
            if task is not None:
                task.cancel()
                tasks.append(task)
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in self.servers:
            await server.wait_closed()


async def start_servers(settings: Settings, handler: SubmissionHandler) -> Listening:
    """Listen on both submission ports; close the result to stop."""
    loop = asyncio.get_running_loop()
    context = server_context(settings)
    listening = Listening()

    def protocol(*, starttls: bool) -> SMTP:
        return SubmissionSMTP(
            handler,
            hostname=settings.hostname,
            ident="Outpost ESMTP",
            data_size_limit=settings.max_message_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            auth_required=True,
            tls_context=context if starttls else None,
            require_starttls=starttls,
            # On the implicit-TLS port the whole connection is TLS already, which
            # aiosmtpd's STARTTLS bookkeeping cannot see.
            auth_require_tls=starttls,
        )

    def starttls() -> SMTP:
        return listening.track(protocol(starttls=True))

    def implicit_tls() -> SMTP:
        with warnings.catch_warnings():
            # aiosmtpd warns that AUTH does not require TLS; here TLS is the transport.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return listening.track(protocol(starttls=False))

    listening.servers = [
        await loop.create_server(starttls, settings.smtp_host, settings.smtp_submission_port),
        await loop.create_server(
            implicit_tls, settings.smtp_host, settings.smtp_tls_port, ssl=context
        ),
    ]
    return listening


def smtp_service(settings: Settings, database: Database, sending: Sending) -> Service:
    """SMTP submission as a runtime service."""

    async def run(stop: asyncio.Event) -> None:
        sending.start()
        handler = submission_handler(settings, database, sending)
        listening = await start_servers(settings, handler)
        log.info(
            "SMTP submission on %s:%d (STARTTLS) and :%d (TLS)",
            settings.smtp_host,
            settings.smtp_submission_port,
            settings.smtp_tls_port,
        )
        await stop.wait()
        await listening.close()
        await handler.close()

    return run
