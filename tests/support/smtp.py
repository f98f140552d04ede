"""Outpost's SMTP submission servers on loopback ports, run in a background event loop."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from outpost.config import Settings
from outpost.db import Database
from outpost.sending.service import Sending
from outpost.sending.smtp.server import start_servers, submission_handler
from outpost.sending.smtp.tls import certificate_files
from tests.support.dns_server import free_port


@dataclass(frozen=True)
class SubmissionServer:
    """Where the test servers listen, and a client TLS context that trusts them."""

    host: str
    starttls_port: int
    tls_port: int
    client_context: ssl.SSLContext


@contextmanager
def run_submission(settings: Settings, database: Database) -> Iterator[SubmissionServer]:
    """Serve SMTP submission (both ports) until the block ends."""
    settings = settings.model_copy(
        update={"smtp_submission_port": free_port(), "smtp_tls_port": free_port()}
    )
    sending = Sending(database, settings)
    sending.start()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    handler = submission_handler(settings, database, sending)
    listening = asyncio.run_coroutine_threadsafe(start_servers(settings, handler), loop).result(10)
    cert, _key = certificate_files(settings)
    try:
        yield SubmissionServer(
            host="127.0.0.1",
            starttls_port=settings.smtp_submission_port,
            tls_port=settings.smtp_tls_port,
            client_context=ssl.create_default_context(cafile=str(cert)),
        )
    finally:
        asyncio.run_coroutine_threadsafe(listening.close(), loop).result(10)
        asyncio.run_coroutine_threadsafe(handler.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        sending.stop()
