"""The PostgreSQL acceptance writer, in a process of its own.

A writer thread in the web or SMTP process shares the interpreter lock with the event loop
that parses requests. Measured on the Send API: the thread's 16-request batch took 13 to
17 ms of wall time for 5 ms of its own CPU, because after each of its ~16 round trips it
waited for the loop to let go of the lock; the same batch in a process alone took 6.4 ms.
The writer, the only consumer of acceptance work, therefore runs in a child process:
requests go to it over a pipe, it runs :func:`~outpost.sending.writer.write_batch` on
everything waiting (a read, then one statement that commits) and sends the outcomes back
after the commit.

If the child dies, every request it had not answered is answered 503 (it may or may not
have been committed: the client retries, with its ``Idempotency-Key`` if it sent one) and
the next request starts a new child.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import queue
import signal
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from outpost.db import Database, create_db_engine
from outpost.errors import OutpostError, Unavailable
from outpost.fastsql import HeldConnection, generic_plan_options
from outpost.runtime import share_the_interpreter
from outpost.sending.pipeline import Render
from outpost.sending.submission import AcceptRequest, AcceptResult
from outpost.sending.writer import (
    Outcome,
    outcome_unknown,
    shutting_down,
    take_batch,
    write_batch,
)

log = logging.getLogger(__name__)

STOP_TIMEOUT = 30.0
# The connection is in autocommit, so a statement whose writer died commits when it
# finishes unless PostgreSQL notices the client is gone: a statement waiting for a lock
# would otherwise store the messages of requests already answered 503 long after.
ABANDONED_STATEMENTS = "-c client_connection_check_interval=100"


def _portable(outcome: Outcome) -> Any:
    """An outcome the pipe can carry (errors lose nothing of their state)."""
    if isinstance(outcome, OutpostError):
        return ("error", type(outcome), outcome.__dict__)
    return outcome


def _restored(outcome: Any) -> Outcome:
    if isinstance(outcome, tuple):
        _, cls, state = outcome
        error: OutpostError = cls.__new__(cls)
        Exception.__init__(error, state.get("message", ""))
        error.__dict__.update(state)
        return error
    result: AcceptResult = outcome
    return result


def _lost() -> Unavailable:
    return outcome_unknown("The acceptance writer stopped before answering")


Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Future[Outcome]]


def _settle(answers: list[tuple[asyncio.Future[Outcome], Outcome]]) -> None:
    for future, outcome in answers:
        if not future.done():
            future.set_result(outcome)


def _settle_all(answers: list[tuple[Waiter, Outcome]]) -> None:
    """Resolve futures from any thread: one wake-up of each event loop, not one per answer."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Outcome], Outcome]]] = {}
    for (loop, future), outcome in answers:
        by_loop.setdefault(loop, []).append((future, outcome))
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: no one is waiting
            loop.call_soon_threadsafe(_settle, settled)


class _Child:
    """One writer process and the parent's end of its pipe."""

    def __init__(self, process: BaseProcess, channel: Connection) -> None:
        self.process = process
        self.channel = channel
        self.alive = True
        # Sent to this child and not answered yet; a new child never inherits them.
        self.pending: dict[int, Waiter] = {}


class ProcessWriter:
    """The parent's side: sends requests to the child and resolves their futures.

    Requests that arrive in one turn of the event loop go to the child in one message,
    and the child's answers to a batch come back in one, settled with one wake-up of the
    loop: the pipe and the loop's self-pipe cost per message, not per request.
    """

    def __init__(self, database: Database, render: Render) -> None:
        self.url = database.url
        self.render = render
        # Children fork from a clean single-threaded server that has imported this module
        # once: a new writer starts in milliseconds, not the second an import takes.
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload([__name__])
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._serials = itertools.count()
        self._outbox: list[tuple[int, AcceptRequest, Waiter]] = []
        self._sending = False
        self._stopping = False

    def start(self) -> None:
        """Take requests (the child starts with the first one)."""
        with self._lock:
            self._stopping = False

    def stop(self) -> None:
        """Let the child finish what it was sent, then end it."""
        with self._lock:
            self._stopping = True
            child, self._child = self._child, None
        if child is None:
            return
        with contextlib.suppress(OSError):
            child.channel.send(None)
        child.process.join(STOP_TIMEOUT)
        if child.process.is_alive():
            log.error("the acceptance writer did not stop in %s s; terminating it", STOP_TIMEOUT)
            child.process.terminate()
            child.process.join()

    async def accept(self, request: AcceptRequest) -> AcceptResult:
        """Send ``request`` to the child and wait for its committed outcome."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        with self._lock:
            if self._stopping:
                raise shutting_down()
            self._outbox.append((next(self._serials), request, (loop, future)))
            schedule, self._sending = not self._sending, True
        if schedule:
            # After the callbacks already due: the requests read in this turn join in.
            loop.call_soon(self._send)
        outcome = await future
        if isinstance(outcome, OutpostError):
            raise outcome
        return outcome

    def _send(self) -> None:
        """Send every request waiting in the outbox to the child, in one message."""
        with self._lock:
            self._sending = False
            outbox, self._outbox = self._outbox, []
            if self._stopping:
                failed: list[tuple[Waiter, Outcome]] = [(w, shutting_down()) for *_, w in outbox]
            else:
                child = self._child if self._child is not None and self._child.alive else None
                if child is None:
                    child = self._child = self._spawn()
                for serial, _, waiter in outbox:
                    child.pending[serial] = waiter
                try:
                    child.channel.send([(serial, request) for serial, request, _ in outbox])
                    failed = []
                except OSError:
                    failed = [(child.pending.pop(serial), _lost()) for serial, *_ in outbox]
        _settle_all(failed)

    def _spawn(self) -> _Child:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=serve,
            args=(self.url, theirs, self.render),
            name="outpost-acceptance-writer",
            daemon=True,
        )
        process.start()
        theirs.close()
        child = _Child(process, ours)
        threading.Thread(
            target=self._receive, args=(child,), name="outpost-writer-answers", daemon=True
        ).start()
        return child

    def _receive(self, child: _Child) -> None:
        """Resolve futures with the child's answers until its pipe closes."""
        try:
            while True:
                answers = child.channel.recv()
                with self._lock:
                    settled = [
                        (child.pending.pop(serial), _restored(outcome))
                        for serial, outcome in answers
                        if serial in child.pending
                    ]
                _settle_all(settled)
        except (EOFError, OSError):
            pass
        with self._lock:
            child.alive = False
            lost, child.pending = child.pending, {}
            error = shutting_down() if self._stopping else _lost()
        if lost and not self._stopping:
            log.error("the acceptance writer stopped with %d requests unanswered", len(lost))
        _settle_all([(waiter, error) for waiter in lost.values()])
        child.channel.close()


def serve(url: str, channel: Connection, render: Render) -> None:
    """The child: write every batch the parent sends until it says stop or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    share_the_interpreter()  # the inbox thread hands requests over sooner
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    options = f"{generic_plan_options(url)} {ABANDONED_STATEMENTS}"
    connection = HeldConnection(create_db_engine(url, connect_args={"options": options}))
    inbox: queue.SimpleQueue[list[tuple[int, AcceptRequest]] | None] = queue.SimpleQueue()

    def read() -> None:
        try:
            while (requests := channel.recv()) is not None:
                inbox.put(requests)
        except (EOFError, OSError):
            pass
        inbox.put(None)

    threading.Thread(target=read, name="outpost-writer-inbox", daemon=True).start()
    stop = False
    while not stop:
        first = inbox.get()
        if first is None:
            break
        waiting = list(first)
        while True:
            try:
                more = inbox.get_nowait()
            except queue.Empty:
                break
            if more is None:
                stop = True
                break
            waiting += more
        answers: list[tuple[int, Any]] = []
        batch = [(request, _answer(answers, serial)) for serial, request in waiting]
        while batch:
            chunk, rest = take_batch(batch)
            batch = write_batch(connection, render, chunk) + rest
        try:
            channel.send(answers)
        except OSError:
            break
    connection.close()
    channel.close()


def _answer(answers: list[tuple[int, Any]], serial: int) -> Any:
    def complete(outcome: Outcome) -> None:
        answers.append((serial, _portable(outcome)))

    return complete
