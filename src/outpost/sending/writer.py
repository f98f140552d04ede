"""Group commit: many acceptances written in one transaction and one commit.

Each caller still gets its answer only after the transaction that holds its message has
committed. Per-message fsyncs would cap throughput near the disk's fsync rate
(~1,000/s here); sharing one commit among every request that arrived meanwhile does not.

Two writers run the same batch code (:func:`write_batch`):

- on SQLite, :class:`LoopWriter` runs it on the event loop: statements are local and take
  microseconds, and handing work to a thread would cost more in GIL switches than the
  work itself (measured: about 100 µs of CPU per request more);
- on PostgreSQL, :class:`~outpost.sending.writer_process.ProcessWriter` runs it in a child
  process, so statements waiting on the network never wait for the event loop's
  interpreter lock as well (see that module).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from outpost.db import Database
from outpost.errors import OutpostError, Unavailable
from outpost.fastsql import ConnectionLost, HeldConnection
from outpost.sending import pipeline
from outpost.sending.models import IDEMPOTENCY_INDEX
from outpost.sending.pipeline import Render
from outpost.sending.submission import AcceptRequest, AcceptResult

log = logging.getLogger(__name__)

MAX_BATCH_MESSAGES = 2000

Outcome = AcceptResult | OutpostError
Item = tuple[AcceptRequest, Callable[[Outcome], None]]


class Writer(Protocol):
    """What ``Sending`` needs from a writer."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    async def accept(self, request: AcceptRequest) -> AcceptResult: ...


def write_batch(connection: HeldConnection, render: Render, batch: list[Item]) -> list[Item]:
    """Run the pipeline over ``batch`` with one commit; returns the items to run again.

    Every other item is answered, after the commit. If the batch fails, each request is
    retried alone, so one bad request cannot fail the others (and one that lost a race for
    its Idempotency-Key is run again, to replay the winner's answer); but if the connection was
    lost, the batch may have committed, and each request is answered 503 instead (a retry
    here could store it twice; the client's can carry its Idempotency-Key).
    """
    jobs = [pipeline.Job(request=request) for request, _ in batch]
    try:
        with connection.batch() as driver:
            pipeline.run(driver, jobs, render)
    except ConnectionLost:
        log.exception("the database connection was lost during a batch")
        for _, answer in batch:
            answer(outcome_unknown("The database connection was lost while storing"))
        return []
    except Exception as exc:
        if len(batch) == 1:
            if IDEMPOTENCY_INDEX in str(exc):
                # Another process stored this Idempotency-Key after the check read none:
                # run the request again, and the check answers it from that record.
                return batch
            log.exception("acceptance failed")
            batch[0][1](_as_error(exc))
            return []
        return [item for one in batch for item in write_batch(connection, render, [one])]
    again = []
    for job, item in zip(jobs, batch, strict=True):
        if job.requeue:
            again.append(item)
        elif job.error is not None:
            item[1](job.error)
        elif job.result is not None:
            item[1](job.result)
    return again


def _as_error(exc: BaseException) -> OutpostError:
    if isinstance(exc, OutpostError):
        return exc
    return Unavailable("The message could not be stored; nothing was accepted. Try again.")


def outcome_unknown(what: str) -> Unavailable:
    """The refusal of a request whose fate is unknown: ``what`` happened before its answer."""
    return Unavailable(
        f"{what}; the message may or may not have been stored. Try again (with the same "
        "Idempotency-Key to avoid a duplicate)."
    )


def shutting_down() -> Unavailable:
    """The refusal of a request that arrives while the writer stops."""
    return Unavailable("The server is shutting down; nothing was accepted. Try again.")


def take_batch(pending: list[Item]) -> tuple[list[Item], list[Item]]:
    """The first items of ``pending`` up to the batch size, and the rest."""
    count = 0
    for index, (request, _) in enumerate(pending):
        count += len(request.messages)
        if count >= MAX_BATCH_MESSAGES:
            return pending[: index + 1], pending[index + 1 :]
    return pending, []


class Checkpointer:
    """Copies SQLite's write-ahead log into the database from a thread of its own.

    A commit that crosses SQLite's auto-checkpoint size would otherwise checkpoint, and
    fsync, on the event loop; here the writer's connection never checkpoints and this
    thread does (PASSIVE: it never blocks a writer) twice a second.
    """

    INTERVAL = 0.5

    def __init__(self, database: Database) -> None:
        self.database = database
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start checkpointing (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="outpost-wal-checkpoint", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop after a last checkpoint."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()

    def _run(self) -> None:
        raw = self.database.engine.raw_connection()
        sqlite: Any = raw.driver_connection
        try:
            while not self._stop.wait(self.INTERVAL):
                sqlite.execute("PRAGMA wal_checkpoint(PASSIVE)")
            sqlite.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:
            log.exception("WAL checkpoint failed; SQLite will checkpoint on commits instead")
        finally:
            raw.close()


class LoopWriter:
    """Writes on the event loop: everything that arrived since the last batch, in one.

    While requests come in company (the last batch held more than one), a batch waits
    ``GATHER_SECONDS`` for more before it is written, as PostgreSQL's ``commit_delay``
    does: the batch's commit and its per-batch statements then serve more requests, and
    the loop's CPU is what limits a busy SQLite server (measured on the Send API, single
    messages: 0.18 → 0.16 ms of CPU per request, +11% requests/s). A lone request is
    written at once.
    """

    GATHER_SECONDS = 0.001

    def __init__(self, database: Database, render: Render) -> None:
        self.connection = HeldConnection(database.engine, wal_autocheckpoint=False)
        self.checkpointer = Checkpointer(database)
        self.render = render
        self._pending: list[Item] = []
        self._scheduled = False
        self._company = False
        self._stopping = False

    def start(self) -> None:
        """Take requests."""
        self._stopping = False
        self.checkpointer.start()

    def stop(self) -> None:
        """Refuse new requests and write the queued ones now."""
        self._stopping = True
        self._flush()
        self.connection.close()
        self.checkpointer.stop()

    async def accept(self, request: AcceptRequest) -> AcceptResult:
        """Queue ``request`` and wait for its committed result."""
        if self._stopping:
            raise shutting_down()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AcceptResult] = loop.create_future()

        def complete(outcome: Outcome) -> None:
            if future.done():
                return
            if isinstance(outcome, OutpostError):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

        self._pending.append((request, complete))
        if not self._scheduled:
            self._scheduled = True
            if self._company:
                loop.call_later(self.GATHER_SECONDS, self._flush)
            else:
                # Run after the callbacks already due: requests read in this round join in.
                loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        self._company = len(self._pending) > 1
        while self._pending:
            batch, self._pending = take_batch(self._pending)
            self._pending[:0] = write_batch(self.connection, self.render, batch)
