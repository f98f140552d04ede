"""Group commit: one thread writes many acceptances in one transaction and one commit.

Each caller still gets its answer only after the transaction that holds its message has
committed. Per-message fsyncs would cap throughput near the disk's fsync rate
(~1,000/s here); sharing one commit among every request that arrived meanwhile does not.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from outpost.db import Database
from outpost.errors import OutpostError, Unavailable
from outpost.fastsql import Driver
from outpost.sending import pipeline
from outpost.sending.submission import AcceptRequest, AcceptResult

log = logging.getLogger(__name__)

MAX_BATCH_REQUESTS = 200
MAX_BATCH_MESSAGES = 2000

Render = Callable[[AcceptResult], dict[str, Any]]
_Item = tuple[AcceptRequest, "concurrent.futures.Future[AcceptResult]"]


class AcceptanceWriter:
    """The single writer thread of this process's acceptances."""

    def __init__(self, database: Database, render: Render) -> None:
        self.database = database
        self.render = render
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = False

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        with self._lock:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(
                    target=self._run, name="outpost-acceptance-writer", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """Finish what is queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping = True
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def submit(self, request: AcceptRequest) -> concurrent.futures.Future[AcceptResult]:
        """Queue ``request``; the future resolves after its transaction commits."""
        future: concurrent.futures.Future[AcceptResult] = concurrent.futures.Future()
        if self._stopping:
            future.set_exception(
                Unavailable("The server is shutting down; nothing was accepted. Try again.")
            )
            return future
        self.start()
        self._queue.put((request, future))
        return future

    async def accept(self, request: AcceptRequest) -> AcceptResult:
        """Queue ``request`` and wait for its committed result."""
        return await asyncio.wrap_future(self.submit(request))

    def _next_batch(self, first: _Item) -> tuple[list[_Item], bool]:
        batch, messages = [first], len(first[0].messages)
        while len(batch) < MAX_BATCH_REQUESTS and messages < MAX_BATCH_MESSAGES:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
            messages += len(item[0].messages)
        return batch, False

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch, stop = self._next_batch(first)
            self._process(batch)

    def _process(self, batch: list[_Item]) -> None:
        jobs = [pipeline.Job(request=request) for request, _ in batch]
        try:
            with self.database.engine.begin() as conn:
                pipeline.run(Driver(conn), jobs, self.render)
        except Exception as exc:
            if len(batch) > 1:
                # One request broke the shared transaction: retry each on its own.
                for item in batch:
                    self._process([item])
                return
            log.exception("acceptance failed")
            _fail(batch[0][1], exc)
            return
        for job, (request, future) in zip(jobs, batch, strict=True):
            if job.requeue:
                self._queue.put((request, future))
            elif job.error is not None:
                _fail(future, job.error)
            elif job.result is not None:
                future.set_result(job.result)


def _fail(future: concurrent.futures.Future[AcceptResult], exc: BaseException) -> None:
    if isinstance(exc, OutpostError):
        future.set_exception(exc)
    else:
        future.set_exception(
            Unavailable("The message could not be stored; nothing was accepted. Try again.")
        )
