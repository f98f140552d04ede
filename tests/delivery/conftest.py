"""Fixtures for delivery tests: a loopback DNS server, remote MX servers, fast settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from outpost.config import Settings
from outpost.db import Database
from outpost.delivery.worker import DeliveryWorker
from tests.support.dns_server import DNSServer
from tests.support.smtp_server import RemoteMX, Script, accept_all


@pytest.fixture
def dns_server() -> Iterator[DNSServer]:
    server = DNSServer().start()
    yield server
    server.stop()


@pytest.fixture
def remote_mx() -> Iterator[Callable[..., RemoteMX]]:
    """Start remote MX servers on loopback; each is stopped after the test."""
    started: list[RemoteMX] = []

    def start(script: Script = accept_all, **kwargs: Any) -> RemoteMX:
        mx = RemoteMX(script, **kwargs).start()
        started.append(mx)
        return mx

    yield start
    for mx in started:
        mx.stop()


@pytest.fixture
def delivery_settings(settings: Settings, dns_server: DNSServer) -> Callable[..., Settings]:
    """Settings for a worker: the loopback DNS server, an MX port, no waiting between tries."""

    def make(port: int, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "dns_resolver": dns_server.address,
            "delivery_port": port,
            "delivery_timeout_seconds": 10,
            "delivery_retry_base_seconds": 0,
            "delivery_retry_max_seconds": 0,
            "delivery_deadline_seconds": 3600,
            "delivery_lease_seconds": 60,
            "delivery_poll_seconds": 0.05,
            "system_sender": "postmaster@outpost.test",
        }
        values.update(overrides)
        return settings.model_copy(update=values)

    return make


def drain(database: Database, settings: Settings) -> int:
    """Run one worker until nothing is due; how many recipients it processed."""
    return asyncio.run(DeliveryWorker(database, settings).drain())


def deliver_once(database: Database, settings: Settings) -> int:
    """Claim and process a single batch."""

    async def once() -> int:
        worker = DeliveryWorker(database, settings)
        batch = await asyncio.to_thread(worker.claim)
        if batch is None:
            return 0
        await worker.pipeline.process(batch)
        return len(batch.recipients)

    return asyncio.run(once())
