"""Run Outpost's services in one asyncio process: web, and the others as they are enabled."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

from outpost.config import Settings
from outpost.db import Database

log = logging.getLogger(__name__)

Service = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the process running all services."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def web_service(app: FastAPI, settings: Settings) -> Service:
    """The HTTP server for the panel, the Management API and the Send API."""

    async def run(stop: asyncio.Event) -> None:
        config = uvicorn.Config(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        server = _EmbeddedServer(config)
        serving = asyncio.create_task(server.serve())
        await stop.wait()
        server.should_exit = True
        await serving

    return run


def scheduler_service(database: Database, settings: Settings) -> Service:
    """The periodic jobs (one active scheduler per installation)."""
    from outpost.jobs import ALL_JOBS
    from outpost.scheduler import Scheduler

    return Scheduler(database, settings, ALL_JOBS).serve


def worker_services(database: Database, settings: Settings) -> list[Service]:
    """A delivery worker and the webhook sender (``outpost worker``; any number of hosts)."""
    from outpost.delivery.worker import delivery_service
    from outpost.events.webhooks import WebhookSender

    return [delivery_service(database, settings), WebhookSender(database, settings).run]


def bounce_server_service(database: Database, settings: Settings) -> Service:
    """The inbound MX of the return-path hosts, on ``bounce_port``."""
    from outpost.delivery.bounces import bounce_service

    return bounce_service(database, settings)


async def run_services(services: list[Service]) -> None:
    """Run every service until SIGINT/SIGTERM or until one of them fails."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(service(stop)) for service in services]
    try:
        done, _pending = await asyncio.wait(
            [*tasks, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        for task in done:
            if task in tasks and task.exception() is not None:
                log.error("a service stopped: %s", task.exception())
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def _not_aiosmtpd_self_deprecation(record: logging.LogRecord) -> bool:
    # aiosmtpd sets its own deprecated Session.login_data on every successful AUTH.
    return "login_data is deprecated" not in record.getMessage()


def configure_logging() -> None:
    """INFO for Outpost; aiosmtpd logs every SMTP command at INFO, so only its warnings."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    smtp_log = logging.getLogger("mail.log")
    smtp_log.setLevel(logging.WARNING)
    smtp_log.addFilter(_not_aiosmtpd_self_deprecation)


GC_YOUNG_THRESHOLD = 10_000


def settle_heap() -> None:
    """Keep the cyclic garbage collector off the start-up heap and out of the hot paths.

    Every full collection walked the ~200,000 objects built at start-up (modules, the app,
    its routes and schemas), none of which ever becomes garbage, and with the default
    young-generation threshold (700) a busy Send API process collected every dozen
    requests. Measured in-process on ``/v1/send`` (SQLite): collections took about 50 µs
    per request, 8 µs once the start-up heap is frozen, 1 µs with the higher threshold
    too. Frozen objects are never collected; everything built later is, as usual.
    """
    gc.collect()
    gc.freeze()
    _young, *older = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *older)


# How long a thread may hold the interpreter lock while another waits for it (Python's
# default is 5 ms). The event loop holds it while it parses requests; the thread that reads
# the acceptance writer's answers waited for it that long before it could hand them over.
# Measured on the Send API with PostgreSQL: answers reached the loop 1.25 → 1.0 ms after
# the writer sent them, and requests/s +20%.
SWITCH_INTERVAL = 0.0005


def share_the_interpreter() -> None:
    """Let a thread waiting for the interpreter lock have it sooner (``SWITCH_INTERVAL``)."""
    sys.setswitchinterval(SWITCH_INTERVAL)


def run(services: list[Service]) -> None:
    """Run ``services`` until a signal stops them, on uvloop when it is installed."""
    settle_heap()
    share_the_interpreter()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        asyncio.run(run_services(services))
    else:
        uvloop.run(run_services(services))
