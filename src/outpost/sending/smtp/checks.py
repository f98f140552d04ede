"""The reads behind the answers to MAIL FROM and RCPT TO: the account's state, a recipient's.

On SQLite such a read takes microseconds and runs inline (:class:`InlineChecks`). On
PostgreSQL it is a network round trip, and inline it would stop every session of the
process for that long (measured: half the messages per second of the same server
without the reads). :class:`BatchedChecks` sends the reads from the event loop over a
non-blocking libpq connection instead; the reads asked for while one is in flight go
together in the next, so one round trip answers every session waiting.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import psycopg
from psycopg import pq
from psycopg.conninfo import make_conninfo
from psycopg.errors import error_from_result
from sqlalchemy import Engine

from outpost.fastsql import HeldReader, generic_plan_options
from outpost.sending import sql

Key = tuple[int, str | None]  # (account id, lower-cased recipient or None for the account)

# Every question at once: a JSON array of keys, ``[[account id, recipient or null], …]``,
# and every answer as one JSON array of ``[question's place (from 1), status,
# ip_allowlist, remaining, suppression_enabled, listed]``; a question about an account
# that does not exist gets no answer. One orjson call each way is the cheapest encoding
# there is in Python. The joins use the primary key of delivery_accounts and the unique
# (account_id, address) index of suppressions, in the generic plan too.
STATES = b"""
    SELECT json_agg(json_build_array(
               q.n, a.status, a.ip_allowlist, a.remaining, a.suppression_enabled,
               EXISTS (SELECT 1 FROM suppressions s
                       WHERE s.account_id = (q.key->>0)::bigint AND s.address = q.key->>1)))
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS q(key, n)
    JOIN delivery_accounts a ON a.id = (q.key->>0)::bigint
"""
_STATES = b"states"


@dataclass(frozen=True, slots=True)
class SubmitterState:
    """What MAIL FROM and RCPT TO need to know; ``listed`` is about one recipient."""

    status: str
    ip_allowlist: list[str]
    remaining: int
    suppression_enabled: bool
    listed: bool


def _state(status: str, ips: Any, remaining: int, suppression: Any, listed: Any) -> SubmitterState:
    allowlist = orjson.loads(ips) if isinstance(ips, str | bytes) else ips
    return SubmitterState(status, list(allowlist or []), remaining, bool(suppression), bool(listed))


class Checks(Protocol):
    """How the submission handler reads an account's state."""

    async def state(self, account_id: int, address: str | None = None) -> SubmitterState | None:
        """The account's state, and whether ``address`` is on its suppression list."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...


def checks_for(engine: Engine) -> Checks:
    """Inline reads on SQLite, batched asynchronous reads on PostgreSQL."""
    if engine.dialect.name == "postgresql":
        return BatchedChecks(engine.url.set(drivername="postgresql").render_as_string(False))
    return InlineChecks(engine)


class InlineChecks:
    """One indexed read per question on a held connection: cheaper than any hand-over."""

    def __init__(self, engine: Engine) -> None:
        self.reader = HeldReader(engine)

    async def state(self, account_id: int, address: str | None = None) -> SubmitterState | None:
        rows = self.reader.execute(
            sql.SUBMITTER_STATE, {"account_id": account_id, "address": address}
        )
        return _state(*rows[0]) if rows else None

    async def close(self) -> None:
        self.reader.close()


class BatchedChecks:
    """Reads from the event loop, every question waiting answered by one statement."""

    def __init__(self, url: str) -> None:
        self.conninfo = make_conninfo(url, options=generic_plan_options(url))
        self._connection: _Connection | None = None
        self._waiting: dict[Key, list[asyncio.Future[SubmitterState | None]]] = {}
        self._reading: asyncio.Task[None] | None = None

    async def state(self, account_id: int, address: str | None = None) -> SubmitterState | None:
        future: asyncio.Future[SubmitterState | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault((account_id, address), []).append(future)
        if self._reading is None:
            self._reading = asyncio.create_task(self._read_while_waiting())
        return await future

    async def _read_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                try:
                    answers = await self._read(list(batch))
                except Exception as exc:
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                for key, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(answers.get(key))
        finally:
            self._reading = None

    async def _read(self, keys: list[Key]) -> dict[Key, SubmitterState]:
        if self._connection is None or self._connection.closed:
            self._connection = await _Connection.open(self.conninfo)
        result = await self._connection.run(orjson.dumps(keys))
        return _answers(keys, orjson.loads(result.get_value(0, 0) or b"[]"))

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _answers(keys: list[Key], rows: list[list[Any]]) -> dict[Key, SubmitterState]:
    """The answer to each question that has one (``STATES``'s rows).

    The questions about one account share its two states, listed or not: they are frozen,
    and making one for every question cost 20 µs of CPU in a read of 20 questions.
    """
    answers: dict[Key, SubmitterState] = {}
    made: dict[tuple[int, bool], SubmitterState] = {}
    for place, status, ips, remaining, suppression, listed in rows:
        key = keys[place - 1]
        state = made.get((key[0], listed))
        if state is None:
            state = made[key[0], listed] = _state(status, ips, remaining, suppression, listed)
        answers[key] = state
    return answers


class _Connection:
    """One libpq connection with ``STATES`` prepared, its answers read by the event loop.

    psycopg's asynchronous connection spent about 137 µs of CPU per read in cursors,
    adaptation and generators, all of it on the process's one event loop; libpq itself
    (``psycopg.pq``) needs about 30. The socket stays registered with the loop while the
    connection lives: adding and removing a reader for every read cost 15 µs more. A
    connection that fails, even while idle, closes itself and the next read opens another.
    """

    def __init__(self, pgconn: pq.abc.PGconn, loop: asyncio.AbstractEventLoop) -> None:
        self.pgconn = pgconn
        self.loop = loop
        self.socket = pgconn.socket
        self.closed = False
        self._answered: asyncio.Future[None] | None = None
        loop.add_reader(self.socket, self._readable)

    @classmethod
    async def open(cls, conninfo: str) -> _Connection:
        """Connect and prepare in a thread: blocking, but rare."""
        return cls(await asyncio.to_thread(_connect, conninfo), asyncio.get_running_loop())

    async def run(self, parameter: bytes) -> pq.abc.PGresult:
        """The rows of ``STATES`` for ``parameter``; raises the error the statement fails with."""
        pgconn = self.pgconn
        try:
            pgconn.send_query_prepared(_STATES, [parameter])
            while pgconn.flush():  # the socket's buffer is full: wait for room
                await self._writable()
            answer = None
            while True:
                if pgconn.is_busy():
                    self._answered = self.loop.create_future()
                    await self._answered
                result = pgconn.get_result()
                if result is None:
                    break
                if result.status != pq.ExecStatus.TUPLES_OK:
                    raise error_from_result(result)
                answer = result
        except BaseException:
            self.close()  # whatever is left of the exchange would confuse the next one
            raise
        if answer is None:
            raise psycopg.OperationalError("the server sent no result")
        return answer

    def _readable(self) -> None:
        try:
            self.pgconn.consume_input()
        except psycopg.OperationalError as exc:
            self.close(exc)
            return
        answered = self._answered
        if answered is not None and not answered.done() and not self.pgconn.is_busy():
            answered.set_result(None)

    async def _writable(self) -> None:
        ready = self.loop.create_future()
        self.loop.add_writer(self.socket, _wake, ready)
        try:
            await ready
        finally:
            self.loop.remove_writer(self.socket)

    def close(self, error: Exception | None = None) -> None:
        """Close it; a read waiting for its answer fails with ``error``."""
        if self.closed:
            return
        self.closed = True
        self.loop.remove_reader(self.socket)
        self.pgconn.finish()
        if self._answered is not None and not self._answered.done():
            self._answered.set_exception(error or psycopg.OperationalError("connection closed"))


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


def _connect(conninfo: str) -> pq.abc.PGconn:
    pgconn = pq.PGconn.connect(conninfo.encode())
    try:
        if pgconn.status != pq.ConnStatus.OK:
            raise psycopg.OperationalError(pgconn.get_error_message())
        prepared = pgconn.prepare(_STATES, STATES)
        if prepared.status != pq.ExecStatus.COMMAND_OK:
            raise error_from_result(prepared)
        pgconn.nonblocking = 1
    except BaseException:
        pgconn.finish()
        raise
    return pgconn
