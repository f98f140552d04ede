"""The delivery worker: claim batches, run the pipeline on several at once, repeat.

Any number of workers, in any number of processes on any number of hosts, share one
database; each claims its own batches (see :mod:`outpost.delivery.queue`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from datetime import timedelta

from outpost.config import Settings
from outpost.db import Database
from outpost.delivery.batch import Batch, load_batch
from outpost.delivery.mx import MxResolver
from outpost.delivery.pipeline import ConnectionLimits, Pipeline
from outpost.delivery.queue import claim_due_recipients
from outpost.delivery.smtp_client import SmtpClient
from outpost.runtime import Service

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    """A worker id unique across hosts and restarts (fits ``locked_by``)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DeliveryWorker:
    """Claims due recipients and delivers them, a few batches in flight at a time."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        worker_id: str | None = None,
        mx: MxResolver | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.worker_id = worker_id or new_worker_id()
        self.pipeline = Pipeline(
            database=database,
            settings=settings,
            mx=mx or MxResolver(settings),
            smtp=SmtpClient(settings),
            limits=ConnectionLimits(settings),
        )

    def claim(self) -> Batch | None:
        """Claim the next batch and load its context in one transaction; None when idle."""
        with self.database.session() as session:
            recipients = claim_due_recipients(
                session=session,
                worker_id=self.worker_id,
                limit=self.settings.delivery_batch_size,
                lease=timedelta(seconds=self.settings.delivery_lease_seconds),
            )
            if not recipients:
                return None
            batch = Batch(self.worker_id, recipients)
            # In the claim's transaction: on SQLite every transaction takes the write lock,
            # so one fewer per batch matters when several workers share the file.
            load_batch(session=session, batch=batch)
        return batch

    async def drain(self) -> int:
        """Deliver until nothing is due; returns how many recipients were processed."""
        done = 0
        while True:
            batch = await asyncio.to_thread(self.claim)
            if batch is None:
                return done
            await self.pipeline.process(batch)
            done += len(batch.recipients)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; batches in flight are finished, not abandoned."""
        log.info("delivery worker %s started", self.worker_id)
        in_flight: set[asyncio.Task[None]] = set()
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                while len(in_flight) < self.settings.delivery_batches_in_flight:
                    batch = await self._claim_safely()
                    if batch is None:
                        break
                    in_flight.add(asyncio.create_task(self.pipeline.process(batch)))
                    if len(batch.recipients) < self.settings.delivery_batch_size:
                        break  # the queue is (nearly) empty: no need to ask again at once
                done, _ = await asyncio.wait(
                    [*in_flight, stopping],
                    timeout=self.settings.delivery_poll_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in done & in_flight:
                    in_flight.discard(task)
                    if task.exception() is not None:
                        log.error("a delivery batch failed: %r", task.exception())
        finally:
            stopping.cancel()
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            log.info("delivery worker %s stopped", self.worker_id)

    async def _claim_safely(self) -> Batch | None:
        try:
            return await asyncio.to_thread(self.claim)
        except Exception:
            # A database hiccup: wait for the next poll rather than crash the process.
            log.exception("claiming due recipients failed")
            return None


def delivery_service(database: Database, settings: Settings) -> Service:
    """One delivery worker as a runtime service."""
    return DeliveryWorker(database, settings).run
