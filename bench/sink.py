"""A loopback SMTP sink for benchmarks: answers 250 to everything and counts messages.

It offers PIPELINING, as real mail servers do.

Runs in its own process so it does not share an event loop (or a GIL) with what is being
measured; the count and the first/last arrival times are shared memory.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.sharedctypes
import socket
import time
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class _Counter:
    def __init__(self, count: Any, first: Any, last: Any) -> None:
        self.count, self.first, self.last = count, first, last

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        # Like the mail servers that matter (Postfix, Exim, Gmail, Outlook), the sink
        # offers PIPELINING; both Postfix and Outpost use it when offered.
        session.host_name = hostname
        return [responses[0], "250-PIPELINING", *responses[1:]]

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        now = time.monotonic()
        with self.count.get_lock():
            if self.count.value == 0:
                self.first.value = now
            self.count.value += len(envelope.rcpt_tos)
            self.last.value = now
        return "250 2.0.0 OK"


def _serve(port: int, count: Any, first: Any, last: Any, ready: Any) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        handler = _Counter(count, first, last)
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="sink.bench", data_size_limit=None),
            host="127.0.0.1",
            port=port,
            backlog=512,
        )
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class Sink:
    """The sink process and its shared counters."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.count = multiprocessing.Value("q", 0)
        self.first = multiprocessing.Value("d", 0.0)
        self.last = multiprocessing.Value("d", 0.0)
        ready = multiprocessing.Event()
        self.process = multiprocessing.Process(
            target=_serve,
            args=(self.port, self.count, self.first, self.last, ready),
            daemon=True,
        )
        self.process.start()
        ready.wait(30)

    def reset(self) -> None:
        """Forget what was counted so far."""
        with self.count.get_lock():
            self.count.value = 0
            self.first.value = 0.0
            self.last.value = 0.0

    def received(self) -> int:
        """How many messages (recipients) arrived since the last reset."""
        return int(self.count.value)

    def rate(self) -> float:
        """Messages per second between the first and the last arrival."""
        n = self.received()
        span = self.last.value - self.first.value
        return (n - 1) / span if n > 1 and span > 0 else 0.0

    def wait_for(self, n: int, timeout: float) -> bool:
        """Wait until ``n`` messages arrived (or ``timeout`` seconds passed)."""
        deadline = time.monotonic() + timeout
        while self.received() < n:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> None:
        """End the sink process."""
        self.process.terminate()
        self.process.join(10)
